import Type from 'typebox';

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    code: Type.String(),
    detail: Type.String(),
    instance: Type.String(),
    request_id: Type.String(),
    field: Type.Optional(Type.String()),
  },
  { additionalProperties: true, $id: 'Problem', description: 'RFC 9457 problem details' },
);

export const ProblemRef = Type.Ref('Problem');

/** Problem responses every route may give. */
export const errorResponses = {
  '4xx': ProblemRef,
  '5xx': ProblemRef,
};

export const UuidSchema = Type.String({ format: 'uuid' });
export const StellarAddressSchema = Type.String({
  pattern: '^G[A-Z2-7]{55}$',
  description: 'A Stellar account address (G…)',
});
export const IdParamsSchema = Type.Object({ id: UuidSchema }, { additionalProperties: false });
export const CursorQuerySchema = Type.Object(
  {
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  },
  { additionalProperties: false },
);
