// Governance: proposals and votes as indexed from the chain (public), and the wallet flow for
// signed-in holders of their own wallet — prepare an unsigned transaction, sign it in the wallet,
// relay it back.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requireUserPrincipal } from '../../plugins/auth.ts';
import { CursorQuerySchema, errorResponses } from '../../schemas/common.ts';
import {
  EmptyBodySchema,
  GovernanceMeSchema,
  PreparedTransactionSchema,
  ProposalDetailSchema,
  ProposalPageSchema,
  ProposalParamsSchema,
  ProposeBodySchema,
  RelayBodySchema,
  RelayResultSchema,
  VoteBodySchema,
  VotesQuerySchema,
} from '../../schemas/governance.ts';
import type { GovernanceService } from '../../governance/governance.service.ts';
import { perCallerLimit } from '../optional-auth.ts';

const WALLET_LIMIT = perCallerLimit(30);
const tags = ['governance'];
const security = [{ bearer: [] }];

const routes: FastifyPluginAsyncTypebox<{ governance: GovernanceService }> = async (app, { governance }) => {
  const signedIn = app.requireUser();

  app.get(
    '/governance/proposals',
    {
      schema: {
        tags,
        summary: 'Proposals, newest first, with their tallies and status against the chain’s latest ledger',
        querystring: CursorQuerySchema,
        response: { 200: ProposalPageSchema, ...errorResponses },
      },
    },
    async (request) => governance.list(request.query.limit ?? 20, request.query.cursor),
  );

  app.get(
    '/governance/proposals/:id',
    {
      schema: {
        tags,
        summary: 'One proposal with its full text (checked against its on-chain SHA-256) and its votes',
        params: ProposalParamsSchema,
        querystring: VotesQuerySchema,
        response: { 200: ProposalDetailSchema, ...errorResponses },
      },
    },
    async (request) => governance.get(request.params.id, request.query.limit ?? 50, request.query.cursor),
  );

  app.get(
    '/governance/me',
    {
      onRequest: signedIn,
      schema: {
        tags,
        summary: 'My governance wallet: whether I can sign, my current BST votes and delegate',
        security,
        response: { 200: GovernanceMeSchema, ...errorResponses },
      },
    },
    async (request) => governance.me(requireUserPrincipal(request).userId),
  );

  app.post(
    '/governance/proposals/:id/vote',
    {
      onRequest: signedIn,
      config: { idempotent: true, rateLimit: WALLET_LIMIT },
      schema: {
        tags,
        summary: 'Prepare my vote: an unsigned, simulated transaction for my own wallet to sign',
        description:
          'Needs a linked wallet of your own (not custodial). Sign the returned envelope and POST it to /v1/governance/transactions.',
        security,
        params: ProposalParamsSchema,
        body: VoteBodySchema,
        response: { 201: PreparedTransactionSchema, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(
          await governance.prepareVote(
            requireUserPrincipal(request),
            request.params.id,
            request.body.support,
            request.id,
          ),
        ),
  );

  app.post(
    '/governance/proposals/:id/execute',
    {
      onRequest: signedIn,
      config: { idempotent: true, rateLimit: WALLET_LIMIT },
      schema: {
        tags,
        summary:
          'Prepare executing a proposal that passed: an unsigned transaction for my own wallet to sign',
        description:
          'Anyone may execute a proposal once voting closed with quorum and majority. A proposal still open, defeated or already executed is refused with 409 (voting_not_ended, quorum_not_reached, majority_not_reached, already_executed).',
        security,
        params: ProposalParamsSchema,
        body: EmptyBodySchema,
        response: { 201: PreparedTransactionSchema, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(await governance.prepareExecute(requireUserPrincipal(request), request.params.id, request.id)),
  );

  app.post(
    '/governance/proposals',
    {
      onRequest: signedIn,
      config: { idempotent: true, rateLimit: WALLET_LIMIT },
      schema: {
        tags,
        summary: 'Prepare a proposal: stores its text under its SHA-256 and returns the transaction to sign',
        security,
        body: ProposeBodySchema,
        response: { 201: PreparedTransactionSchema, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(await governance.preparePropose(requireUserPrincipal(request), request.body, request.id)),
  );

  app.post(
    '/governance/delegation',
    {
      onRequest: signedIn,
      config: { idempotent: true, rateLimit: WALLET_LIMIT },
      schema: {
        tags,
        summary: 'Prepare delegating my BST votes to myself (votes count only once delegated)',
        security,
        body: EmptyBodySchema,
        response: { 201: PreparedTransactionSchema, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await governance.prepareDelegate(requireUserPrincipal(request), request.id)),
  );

  app.post(
    '/governance/transactions',
    {
      onRequest: signedIn,
      config: { rateLimit: WALLET_LIMIT },
      schema: {
        tags,
        summary: 'Relay my signed governance transaction to the network and report its outcome',
        description:
          'Accepts only a transaction this API prepared for you (same hash), signed by your wallet. The indexer then ingests its events.',
        security,
        body: RelayBodySchema,
        response: { 200: RelayResultSchema, ...errorResponses },
      },
    },
    async (request) => governance.relay(requireUserPrincipal(request), request.body.transaction, request.id),
  );
};

export default routes;
