/**
 * The services: one per resource, every method taking the acting Actor first and checking its permission itself,
 * so the REST routes, Socket.IO and the CLI share one authorisation layer and none can forget it.
 */
import type { Identity } from '../identity/identity.ts';
import type { Runtime } from '../runtime.ts';
import { AuditService } from './audit.ts';
import { AuthService } from './auth.ts';
import { CredentialService } from './credentials.ts';
import { OAuth2Service } from '../oauth/service.ts';
import { NodeOptionsService } from '../options/service.ts';
import { FlowService } from './flows.ts';
import { OperationsService } from './operations.ts';
import { PackService } from './packs.ts';
import { ProjectService } from './projects.ts';
import { RunService } from './runs.ts';
import { TokenService } from './tokens.ts';
import { UserService } from './users.ts';
import { WaitService } from '../waiting/service.ts';
import { VersionService } from '../versions/service.ts';
import { GitService } from '../git/service.ts';
import { FlowTestService } from '../flowtest/service.ts';
import { SubflowService } from '../subflows/service.ts';
import { PinService } from '../pins/service.ts';
import { VariableService } from '../variables/service.ts';
import { EvalService } from '../evals/service.ts';

export class Services {
  readonly audit: AuditService;
  readonly auth: AuthService;
  readonly projects: ProjectService;
  readonly flows: FlowService;
  readonly runs: RunService;
  readonly credentials: CredentialService;
  readonly oauth2: OAuth2Service;
  readonly nodeOptions: NodeOptionsService;
  readonly packs: PackService;
  readonly users: UserService;
  readonly tokens: TokenService;
  readonly operations: OperationsService;
  readonly waits: WaitService;
  readonly versions: VersionService;
  readonly git: GitService;
  readonly flowTests: FlowTestService;
  readonly subflows: SubflowService;
  readonly pins: PinService;
  readonly variables: VariableService;
  readonly evals: EvalService;

  constructor(
    readonly runtime: Runtime,
    readonly identity: Identity,
  ) {
    this.audit = new AuditService(identity.audit);
    this.auth = new AuthService(identity, runtime.config);
    this.projects = new ProjectService(identity, this.audit);
    this.flows = new FlowService(runtime, this.projects, this.audit);
    this.runs = new RunService(runtime);
    this.credentials = new CredentialService(runtime, this.projects, this.audit);
    this.oauth2 = new OAuth2Service(runtime, this.audit);
    this.nodeOptions = new NodeOptionsService(runtime);
    this.packs = new PackService(runtime, this.audit);
    this.users = new UserService(identity, this.audit);
    this.tokens = new TokenService(identity, this.projects, this.audit);
    this.operations = new OperationsService(runtime);
    this.waits = new WaitService(runtime, this.audit);
    this.versions = new VersionService(runtime, this.flows, this.audit);
    this.flowTests = new FlowTestService(runtime, this.audit);
    this.subflows = new SubflowService(runtime, this.projects, this.audit);
    this.pins = new PinService(runtime);
    this.evals = new EvalService(runtime);
    this.variables = new VariableService(runtime, this.projects, this.audit);
    this.git = new GitService(runtime, this.flows, this.projects, this.audit, this.variables);
  }
}
