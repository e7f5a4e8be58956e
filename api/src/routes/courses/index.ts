// Courses, modules and lessons (authoring and reading), the public catalog, and my teaching list.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { requireUserPrincipal } from '../../plugins/auth.ts';
import { IdParamsSchema, errorResponses } from '../../schemas/common.ts';
import {
  CatalogPageSchema,
  CatalogQuerySchema,
  CourseIdParamsSchema,
  CourseRefParamsSchema,
  CourseSchema,
  CreateCourseBodySchema,
  CreateLessonBodySchema,
  LessonOrderBodySchema,
  LessonSchema,
  ModuleBodySchema,
  ModuleOrderBodySchema,
  ModuleSchema,
  PrerequisitesBodySchema,
  TeachingQuerySchema,
  UpdateCourseBodySchema,
  UpdateLessonBodySchema,
} from '../../schemas/courses.ts';
import { optionalAuth, viewerOf } from '../optional-auth.ts';

const JSON_TYPE = 'application/json; charset=utf-8';

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const { courses, catalog } = app.services;
  app.addHook('onClose', async () => catalog.close());
  const security = [{ bearer: [] }];
  const optional = optionalAuth(app);
  const signedIn = app.requireUser();
  const noContent = { 204: Type.Null(), ...errorResponses };

  app.get(
    '/catalog',
    {
      schema: {
        tags: ['catalog'],
        summary: 'Published courses: full-text search, filters, cursor pagination',
        querystring: CatalogQuerySchema,
        response: { 200: CatalogPageSchema, ...errorResponses },
      },
    },
    // Cached pages are JSON bytes already: sent as they are, not serialised again.
    async (request, reply) => reply.type(JSON_TYPE).send(await catalog.list(request.query)),
  );

  app.post(
    '/courses',
    {
      onRequest: app.requireUser('instructor', 'admin'),
      config: { idempotent: true },
      schema: {
        tags: ['courses'],
        summary: 'Create a course (as a draft); instructors and admins',
        security,
        body: CreateCourseBodySchema,
        response: { 201: CourseSchema, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await courses.create(requireUserPrincipal(request), request.body, request.id)),
  );

  app.get(
    '/courses/:id',
    {
      onRequest: optional,
      schema: {
        tags: ['courses'],
        summary:
          'A course page: syllabus, instructor, rating. Drafts and archived courses only for their instructor and admins',
        params: CourseRefParamsSchema,
        response: { 200: CourseSchema, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply.type(JSON_TYPE).send(await courses.pageJson(viewerOf(request), request.params.id)),
  );

  app.patch(
    '/courses/:id',
    {
      onRequest: signedIn,
      schema: {
        tags: ['courses'],
        summary: 'Edit a course or change its status (its instructor or an admin)',
        security,
        params: CourseIdParamsSchema,
        body: UpdateCourseBodySchema,
        response: { 200: CourseSchema, ...errorResponses },
      },
    },
    async (request) =>
      courses.update(requireUserPrincipal(request), request.params.id, request.body, request.id),
  );

  app.post(
    '/courses/:id/modules',
    {
      onRequest: signedIn,
      config: { idempotent: true },
      schema: {
        tags: ['courses'],
        summary: 'Add a module at the end of the course',
        security,
        params: CourseIdParamsSchema,
        body: ModuleBodySchema,
        response: { 201: ModuleSchema, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(
          await courses.addModule(
            requireUserPrincipal(request),
            request.params.id,
            request.body.title,
            request.id,
          ),
        ),
  );

  app.put(
    '/courses/:id/modules/order',
    {
      onRequest: signedIn,
      schema: {
        tags: ['courses'],
        summary: 'Reorder the course’s modules (send every module id, in order)',
        security,
        params: CourseIdParamsSchema,
        body: ModuleOrderBodySchema,
        response: { 200: CourseSchema, ...errorResponses },
      },
    },
    async (request) =>
      courses.reorderModules(
        requireUserPrincipal(request),
        request.params.id,
        request.body.module_ids,
        request.id,
      ),
  );

  app.patch(
    '/modules/:id',
    {
      onRequest: signedIn,
      schema: {
        tags: ['courses'],
        summary: 'Rename a module',
        security,
        params: IdParamsSchema,
        body: ModuleBodySchema,
        response: { 200: ModuleSchema, ...errorResponses },
      },
    },
    async (request) =>
      courses.renameModule(requireUserPrincipal(request), request.params.id, request.body.title, request.id),
  );

  app.delete(
    '/modules/:id',
    {
      onRequest: signedIn,
      schema: {
        tags: ['courses'],
        summary: 'Delete a module and its lessons (refused once learners completed any)',
        security,
        params: IdParamsSchema,
        response: noContent,
      },
    },
    async (request, reply) => {
      await courses.deleteModule(requireUserPrincipal(request), request.params.id, request.id);
      return reply.code(204).send(null);
    },
  );

  app.put(
    '/modules/:id/prerequisites',
    {
      onRequest: signedIn,
      schema: {
        tags: ['courses'],
        summary: 'Set the modules to finish before this one opens (same course, no cycles)',
        security,
        params: IdParamsSchema,
        body: PrerequisitesBodySchema,
        response: { 200: ModuleSchema, ...errorResponses },
      },
    },
    async (request) =>
      courses.setPrerequisites(
        requireUserPrincipal(request),
        request.params.id,
        request.body.module_ids,
        request.id,
      ),
  );

  app.post(
    '/modules/:id/lessons',
    {
      onRequest: signedIn,
      config: { idempotent: true },
      schema: {
        tags: ['courses'],
        summary: 'Add a lesson at the end of the module',
        security,
        params: IdParamsSchema,
        body: CreateLessonBodySchema,
        response: { 201: LessonSchema, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(
          await courses.addLesson(requireUserPrincipal(request), request.params.id, request.body, request.id),
        ),
  );

  app.put(
    '/modules/:id/lessons/order',
    {
      onRequest: signedIn,
      schema: {
        tags: ['courses'],
        summary: 'Reorder the module’s lessons (send every lesson id, in order)',
        security,
        params: IdParamsSchema,
        body: LessonOrderBodySchema,
        response: { 200: CourseSchema, ...errorResponses },
      },
    },
    async (request) =>
      courses.reorderLessons(
        requireUserPrincipal(request),
        request.params.id,
        request.body.lesson_ids,
        request.id,
      ),
  );

  app.get(
    '/lessons/:id',
    {
      onRequest: optional,
      schema: {
        tags: ['courses'],
        summary: 'A lesson: Markdown and its sanitised HTML, video, duration',
        params: IdParamsSchema,
        response: { 200: LessonSchema, ...errorResponses },
      },
    },
    async (request) => courses.lesson(viewerOf(request), request.params.id),
  );

  app.patch(
    '/lessons/:id',
    {
      onRequest: signedIn,
      schema: {
        tags: ['courses'],
        summary: 'Edit a lesson',
        security,
        params: IdParamsSchema,
        body: UpdateLessonBodySchema,
        response: { 200: LessonSchema, ...errorResponses },
      },
    },
    async (request) =>
      courses.updateLesson(requireUserPrincipal(request), request.params.id, request.body, request.id),
  );

  app.delete(
    '/lessons/:id',
    {
      onRequest: signedIn,
      schema: {
        tags: ['courses'],
        summary: 'Delete a lesson (refused once learners completed it)',
        security,
        params: IdParamsSchema,
        response: noContent,
      },
    },
    async (request, reply) => {
      await courses.deleteLesson(requireUserPrincipal(request), request.params.id, request.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/me/teaching',
    {
      onRequest: app.requireUser('instructor', 'admin'),
      schema: {
        tags: ['courses', 'me'],
        summary: 'Courses I teach, any status (admins: all courses)',
        security,
        querystring: TeachingQuerySchema,
        response: { 200: CatalogPageSchema, ...errorResponses },
      },
    },
    async (request) =>
      courses.teaching(
        requireUserPrincipal(request),
        request.query.status,
        request.query.limit ?? 20,
        request.query.cursor,
      ),
  );
};

export default routes;
