// Staff users and their tokens (admin only).
import type express from 'express';
import { z } from 'zod';
import type { AppOptions, MountTools } from '../app.js';
import { parseBody } from '../resources.js';
import { issueToken, roles } from '../tokens.js';

export const staffTokenSchema = z.strictObject({
  username: z
    .string()
    .trim()
    .min(1)
    .max(64)
    .regex(/^[a-z0-9._-]+$/, 'lower-case letters, digits, dot, dash, underscore'),
  role: z.enum(roles.roles),
  label: z.string().max(100).optional(),
});

export function mountStaff(api: express.Router, t: MountTools, o: AppOptions): void {
  api.post(
    '/staff/tokens',
    t.admin,
    t.h(async (req) => {
      const body = parseBody(staffTokenSchema, req.body);
      const token = await issueToken(o.orm, body.username, body.role, undefined, body.label ?? '');
      return { username: body.username, role: body.role, token };
    }, 201),
  );
}
