import { z } from 'zod';
import { ServiceNames } from './catalog';

/**
 * The AMQP properties every message carries (DESIGN.md section 4). The body is the
 * payload alone; these travel as message properties and headers.
 */
export const EnvelopeSchema = z.object({
  messageId: z.uuid(),
  type: z.string().min(1),
  correlationId: z.string().min(1),
  timestamp: z.date(),
  appId: z.enum(ServiceNames),
  causationId: z.uuid().optional(),
  traceparent: z.string().optional(),
  replyTo: z.string().optional(),
  userId: z.string().optional(),
});
export type Envelope = z.infer<typeof EnvelopeSchema>;

/** Header names used on top of the standard AMQP properties. */
export const Headers = {
  causationId: 'x-causation-id',
  traceparent: 'traceparent',
} as const;

export const JSON_CONTENT_TYPE = 'application/json';
