import { eventListQuerySchema, listEvents } from '#app/listings.ts';
import { parseInput } from '#app/validation.ts';
import { httpHandler } from '#http/handler.ts';
import { eventSummaryResource, listResource } from '#http/resources.ts';
import { json } from '#http/respond.ts';

/** `GET /v1/events?type=…&delivery_status=…&limit=…&cursor=…` — a page of the merchant's events, newest first. */
export const handler = httpHandler({ auth: true }, async (request, { container, merchant }) => {
  const page = await listEvents(container, merchant, parseInput(eventListQuerySchema, request.query));
  return json(200, listResource(page, eventSummaryResource));
});
