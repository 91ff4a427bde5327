/**
 * THE route table: every /api/v1 route, in matching order (literal paths before parameters). The router, the
 * OpenAPI document and the route x role test all read this list.
 */
import type { Route } from '../route-table.ts';
import { auditRoutes } from './audit.ts';
import { authRoutes } from './auth.ts';
import { credentialRoutes } from './credentials.ts';
import { oauth2Routes } from '../../oauth/routes.ts';
import { nodeOptionRoutes } from '../../options/routes.ts';
import { flowRoutes } from './flows.ts';
import { packRoutes } from './packs.ts';
import { projectRoutes } from './projects.ts';
import { runRoutes } from './runs.ts';
import { systemRoutes } from './system.ts';
import { tokenRoutes } from './tokens.ts';
import { userRoutes } from './users.ts';
import { waitRoutes } from './waits.ts';
import { versionRoutes } from './versions.ts';
import { gitRoutes } from './git.ts';
import { flowTestRoutes } from '../../flowtest/routes.ts';
import { subflowRoutes } from '../../subflows/routes.ts';
import { pinRoutes } from '../../pins/routes.ts';
import { variableRoutes } from '../../variables/routes.ts';
import { evalRoutes } from '../../evals/routes.ts';

export const ROUTES: readonly Route[] = [
  ...systemRoutes,
  ...packRoutes,
  ...nodeOptionRoutes,
  ...authRoutes,
  ...flowRoutes,
  ...versionRoutes,
  ...pinRoutes,
  ...evalRoutes,
  ...runRoutes,
  ...waitRoutes,
  ...oauth2Routes,
  ...credentialRoutes,
  ...projectRoutes,
  ...gitRoutes,
  ...variableRoutes,
  ...flowTestRoutes,
  ...subflowRoutes,
  ...userRoutes,
  ...tokenRoutes,
  ...auditRoutes,
];
