// Everything of issue 5b under /v1: lesson completion, certificates and credentials, rewards,
// notifications and the WebSocket, intents and indexer status for operators. Its services are
// built here from the context so the shared services.ts stays untouched by this feature set.
import type { FastifyPluginAsync } from 'fastify';
import { createLearningService } from '../../learning/learning.service.ts';
import { createCertificatesService } from '../../certificates/certificates.service.ts';
import learningRoutes from '../learning/index.ts';
import certificateRoutes from '../certificates/index.ts';
import { createOpsService } from '../../ops/ops.service.ts';
import opsRoutes from '../ops/index.ts';
import { createRewardsService } from '../../rewards/rewards.service.ts';
import { createNotificationsService } from '../../notifications/notifications.service.ts';
import notificationRoutes from '../notifications/index.ts';
import rewardRoutes from '../rewards/index.ts';

const routes: FastifyPluginAsync = async (app) => {
  const learning = createLearningService(app.ctx);
  const certificates = createCertificatesService(app.ctx);
  await app.register(learningRoutes, { learning });
  await app.register(certificateRoutes, { certificates });
  await app.register(opsRoutes, { ops: createOpsService(app.ctx) });
  await app.register(rewardRoutes, { rewards: createRewardsService(app.ctx) });
  await app.register(notificationRoutes, { notifications: createNotificationsService(app.ctx) });
};

export default routes;
