import Type from 'typebox';

const Nullable = <T extends Type.TSchema>(t: T) => Type.Union([t, Type.Null()]);
const DateTime = Type.String({ format: 'date-time' });

export const NotificationSchema = Type.Object({
  id: Type.String({
    description: 'Increasing; send the last one you saw as ?after= when the socket reconnects',
  }),
  kind: Type.String(),
  title: Type.String(),
  body: Type.String(),
  data: Type.Object({}, { additionalProperties: true }),
  created_at: DateTime,
  read_at: Nullable(DateTime),
});

export const NotificationListSchema = Type.Object({
  notifications: Type.Array(NotificationSchema),
  next_cursor: Nullable(Type.String()),
  unread_count: Type.Integer(),
});

export const NotificationListQuerySchema = Type.Object(
  {
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
    unread: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const NotificationIdParamsSchema = Type.Object(
  { id: Type.String({ pattern: '^[1-9][0-9]{0,17}$' }) },
  { additionalProperties: false },
);

export const UnreadCountSchema = Type.Object({ unread: Type.Integer() });
export const ReadAllSchema = Type.Object({ updated: Type.Integer() });

export const WsTokenSchema = Type.Object({
  token: Type.String({
    description: 'A WebSocket-only token (typ ws+jwt), valid for 60 s and for one connection',
  }),
  expires_at: DateTime,
  url: Type.String({ description: 'Where to connect; add &after=<last id seen> when reconnecting' }),
  protocol: Type.String({
    description: 'Alternatively pass ["starling.v1", "bearer.<token>"] as Sec-WebSocket-Protocol',
  }),
});

export const WsQuerySchema = Type.Object(
  {
    token: Type.Optional(Type.String({ maxLength: 2048 })),
    after: Type.Optional(Type.String({ pattern: '^(0|[1-9][0-9]{0,17})$' })),
  },
  { additionalProperties: false },
);
