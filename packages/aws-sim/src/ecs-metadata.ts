/**
 * Fargate tasks: task metadata v4 (`$ECS_CONTAINER_METADATA_URI_V4` and
 * `/task` with the TaskARN siad parses) and the container credentials
 * endpoint that serves the task role's credentials with its `RoleArn`.
 */
import type { FastifyInstance } from 'fastify';
import { awsTimestamp } from './clock.ts';
import { isAwsError, validationError } from './aws-error.ts';
import { accountOfArn } from './arn.ts';
import { clientEnv } from './client-env.ts';
import { isAccountId, isRegion, newHexId, newUuid } from './ids.ts';
import { checkLaunchOptions, matching } from './launch-options.ts';
import type { SimContext } from './sim-context.ts';
import type { TaskRecord } from './state.ts';

export interface FargateTaskOptions {
  /** The task role, by ARN or by name in `account`. */
  taskRole: string;
  account?: string;
  region?: string;
  cluster?: string;
  family?: string;
  revision?: string;
  containerName?: string;
  availabilityZone?: string;
}

export interface FargateTask {
  taskId: string;
  taskArn: string;
  clusterArn: string;
  containerId: string;
  account: string;
  region: string;
  roleArn: string;
  metadataUri: string;
  credentialsUri: string;
  /** As ECS sets AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (relative to `-meta`); not put in `env`, see docs. */
  credentialsRelativeUri: string;
  /** The environment the task's containers see. */
  env: Record<string, string>;
}

const ECS_NAME = /^[A-Za-z0-9_-]{1,255}$/;

function checkName(what: string, value: string): string {
  if (!ECS_NAME.test(value)) throw validationError(`${what} '${value}' must be 1-255 letters, digits, hyphens or underscores`);
  return value;
}

export class FargateTasks {
  constructor(private readonly ctx: SimContext) {}

  launch(opts: FargateTaskOptions): FargateTask {
    checkLaunchOptions(opts, ['taskRole', 'account', 'region', 'cluster', 'family', 'revision', 'containerName', 'availabilityZone']);
    if (!opts.taskRole) throw validationError('taskRole is required');
    const account = opts.account ?? accountOfArn(opts.taskRole);
    if (!isAccountId(account)) throw validationError('account must be 12 digits (or give taskRole as an ARN)');
    const region = opts.region ?? this.ctx.defaultRegion;
    if (!isRegion(region)) throw validationError(`Invalid region '${region}'`);
    const role = this.ctx.roles.resolve(account, opts.taskRole);
    const cluster = checkName('cluster', opts.cluster ?? 'default');
    const family = checkName('family', opts.family ?? 'tessera-task');
    const containerName = checkName('containerName', opts.containerName ?? 'app');
    const taskId = newHexId(32);
    const task: TaskRecord = {
      taskId,
      account,
      region,
      cluster,
      clusterArn: `arn:aws:ecs:${region}:${account}:cluster/${cluster}`,
      taskArn: `arn:aws:ecs:${region}:${account}:task/${cluster}/${taskId}`,
      family,
      revision: matching('revision', opts.revision, /^\d{1,9}$/) ?? '1',
      containerName,
      containerId: `${taskId}-${String(Math.floor(Math.random() * 1e10)).padStart(10, '0')}`,
      availabilityZone: matching('availabilityZone', opts.availabilityZone, /^[a-z]{2}(-[a-z]+)+-\d[a-z]$/) ?? `${region}a`,
      roleArn: role.arn,
      credentialsId: newUuid(),
      launched: awsTimestamp(this.ctx.clock()),
    };
    // ECS refuses to start a task whose role does not trust ecs-tasks.amazonaws.com.
    this.credentials(task);
    this.ctx.state.tasks[taskId] = task;
    this.ctx.persist();
    return this.describe(task);
  }

  describe(task: TaskRecord): FargateTask {
    const url = this.ctx.url();
    const metadataUri = `${url}/v4/${task.containerId}`;
    const credentialsRelativeUri = `/v2/credentials/${task.credentialsId}`;
    const credentialsUri = `${url}${credentialsRelativeUri}`;
    return {
      taskId: task.taskId,
      taskArn: task.taskArn,
      clusterArn: task.clusterArn,
      containerId: task.containerId,
      account: task.account,
      region: task.region,
      roleArn: task.roleArn,
      metadataUri,
      credentialsUri,
      credentialsRelativeUri,
      env: {
        ...clientEnv(url, task.region),
        AWS_EXECUTION_ENV: 'AWS_ECS_FARGATE',
        ECS_CONTAINER_METADATA_URI_V4: metadataUri,
        ECS_CONTAINER_METADATA_URI: `${url}/v3/${task.containerId}`,
        AWS_CONTAINER_CREDENTIALS_FULL_URI: credentialsUri,
      },
    };
  }

  private credentials(task: TaskRecord): Record<string, string> {
    const role = this.ctx.roles.resolve(undefined, task.roleArn);
    const s = this.ctx.workloads.vend({
      workload: `ecs:${task.taskId}`,
      role,
      service: 'ecs-tasks.amazonaws.com',
      actions: ['sts:AssumeRole'],
      sessionName: task.taskId,
      context: { 'aws:SourceAccount': task.account, 'aws:SourceArn': task.taskArn },
    });
    return {
      RoleArn: task.roleArn,
      AccessKeyId: s.accessKeyId,
      SecretAccessKey: s.secretAccessKey,
      Token: s.sessionToken,
      Expiration: s.expiration,
    };
  }

  private containerDoc(t: TaskRecord): object {
    return {
      DockerId: t.containerId,
      Name: t.containerName,
      DockerName: t.containerName,
      Image: `${t.account}.dkr.ecr.${t.region}.amazonaws.com/${t.family}:latest`,
      ImageID: `sha256:${t.taskId}${t.taskId}`,
      Labels: {
        'com.amazonaws.ecs.cluster': t.clusterArn,
        'com.amazonaws.ecs.container-name': t.containerName,
        'com.amazonaws.ecs.task-arn': t.taskArn,
        'com.amazonaws.ecs.task-definition-family': t.family,
        'com.amazonaws.ecs.task-definition-version': t.revision,
      },
      DesiredStatus: 'RUNNING',
      KnownStatus: 'RUNNING',
      Limits: { CPU: 2, Memory: 512 },
      CreatedAt: t.launched,
      StartedAt: t.launched,
      Type: 'NORMAL',
      ContainerARN: `arn:aws:ecs:${t.region}:${t.account}:container/${t.cluster}/${t.taskId}/${t.credentialsId.slice(0, 8)}`,
      Networks: [{ NetworkMode: 'awsvpc', IPv4Addresses: ['10.0.0.10'] }],
    };
  }

  private taskDoc(t: TaskRecord): object {
    return {
      Cluster: t.clusterArn,
      TaskARN: t.taskArn,
      Family: t.family,
      Revision: t.revision,
      DesiredStatus: 'RUNNING',
      KnownStatus: 'RUNNING',
      Limits: { CPU: 0.25, Memory: 512 },
      PullStartedAt: t.launched,
      PullStoppedAt: t.launched,
      AvailabilityZone: t.availabilityZone,
      LaunchType: 'FARGATE',
      Containers: [this.containerDoc(t)],
      ClockDrift: { ClockErrorBound: 0.5, ReferenceTimestamp: t.launched, ClockSynchronizationStatus: 'SYNCHRONIZED' },
    };
  }

  register(app: FastifyInstance): void {
    const byContainer = (id: string): TaskRecord | undefined =>
      Object.values(this.ctx.state.tasks).find((t) => t.containerId === id);
    for (const version of ['v3', 'v4']) {
      app.get<{ Params: { id: string } }>(`/${version}/:id`, async (req, reply) => {
        const t = byContainer(req.params.id);
        return t ? this.containerDoc(t) : reply.code(404).send({ error: 'unknown container' });
      });
      app.get<{ Params: { id: string } }>(`/${version}/:id/task`, async (req, reply) => {
        const t = byContainer(req.params.id);
        return t ? this.taskDoc(t) : reply.code(404).send({ error: 'unknown container' });
      });
      for (const stats of ['stats', 'task/stats']) {
        app.get<{ Params: { id: string } }>(`/${version}/:id/${stats}`, async (req, reply) =>
          byContainer(req.params.id) ? {} : reply.code(404).send({ error: 'unknown container' }),
        );
      }
    }
    app.get<{ Params: { id: string } }>('/v2/credentials/:id', async (req, reply) => {
      const t = Object.values(this.ctx.state.tasks).find((x) => x.credentialsId === req.params.id);
      if (!t) {
        return reply.code(400).send({ code: 'NoCredentialsFound', message: 'CredentialsV2Request: Credentials not found' });
      }
      try {
        return this.credentials(t);
      } catch (e) {
        if (!isAwsError(e)) throw e;
        return reply.code(e.status).send({ Code: e.code, Message: e.message });
      }
    });
  }
}
