import { getEvent } from '#app/notifications.ts';
import { eventResource } from '#domain/resources.ts';
import { httpHandler } from '#http/handler.ts';
import { json } from '#http/respond.ts';

/** `GET /v1/events/{id}` — the event with its delivery status and every attempt. */
export const handler = httpHandler({ auth: true }, async (request, { container, merchant }) => {
  const { event, attempts } = await getEvent(container, merchant, request.pathParameters.id ?? '');
  return json(200, eventResource(event, attempts));
});
