/**
 * "Next steps in AWS", shown once a provider may launch the service: the two
 * IAM roles with their trust policies filled in with the domain's account(s),
 * the siad command, and the examples — what the README's steps 5 and 6 say,
 * for this domain and service.
 */
import { useId, useState } from 'react';
import { useApp } from '../app-context.tsx';
import { TextField } from '../components/Field.tsx';
import { DEFAULT_DNS_SUFFIX, DEFAULT_ZTS_PORT, type ProviderConfig } from '../providers.ts';

type Platform = 'eks-token' | 'fargate' | 'eks-pod-identity' | 'eks-irsa' | 'ecs-ec2';

interface PlatformSpec {
  label: string;
  /** The provider template that must be allowed for it. */
  template: string;
  /** What AWS calls the workload role there. */
  roleKind: string;
}

// The token path first: ZTS checks the pod's token locally, with no AWS call per certificate.
const PLATFORMS: Record<Platform, PlatformSpec> = {
  'eks-token': { label: 'EKS, projected token (no STS call)', template: 'aws_instance_launch_provider', roleKind: '' },
  fargate: { label: 'ECS on Fargate', template: 'aws_instance_launch_provider', roleKind: 'the task role (taskRoleArn)' },
  'eks-pod-identity': { label: 'EKS, Pod Identity', template: 'aws_instance_launch_provider', roleKind: "the pod's role (Pod Identity association)" },
  'eks-irsa': { label: 'EKS, IRSA', template: 'aws_instance_launch_provider', roleKind: "the service account's role (IRSA annotation)" },
  'ecs-ec2': { label: 'ECS on EC2', template: 'aws_ecs_instance_launch_provider', roleKind: 'the task role (taskRoleArn)' },
};

const ACCOUNT_PLACEHOLDER = '<account-id>';

const policy = (statement: Record<string, unknown>) => JSON.stringify({ Version: '2012-10-17', Statement: [statement] }, null, 2);

/** The workload role's own trust: the AWS service (or OIDC provider) that hands the role to the task or pod. */
function workloadTrust(platform: Platform, account: string, irsa: { issuer: string; namespace: string; serviceAccount: string }): string {
  if (platform === 'eks-pod-identity') return policy({ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] });
  if (platform === 'eks-irsa') {
    return policy({
      Effect: 'Allow',
      Principal: { Federated: `arn:aws:iam::${account}:oidc-provider/${irsa.issuer}` },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { StringEquals: { [`${irsa.issuer}:sub`]: `system:serviceaccount:${irsa.namespace}:${irsa.serviceAccount}`, [`${irsa.issuer}:aud`]: 'sts.amazonaws.com' } },
    });
  }
  return policy({ Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' });
}

/** `athenz.aws.us-west-2` → prefix `athenz.aws`, region `us-west-2` (siad adds the region back). */
function splitProvider(principal: string): { prefix: string; region: string } {
  const dot = principal.lastIndexOf('.');
  return { prefix: principal.slice(0, dot), region: principal.slice(dot + 1) };
}

interface NextStepsProps {
  domain: string;
  accounts: string[];
  service: string;
  /** The providers ZMS says may launch the service now. */
  allowed: ProviderConfig[];
}

export function NextSteps({ domain, accounts, service, allowed }: NextStepsProps) {
  const { config } = useApp();
  const titleId = useId();
  const platforms = (Object.keys(PLATFORMS) as Platform[]).filter((p) => allowed.some((a) => a.template === PLATFORMS[p].template));
  const [chosen, setChosen] = useState<Platform>();
  const platform = chosen && platforms.includes(chosen) ? chosen : platforms[0];
  const provider = platform && allowed.find((a) => a.template === PLATFORMS[platform].template);
  const { prefix, region } = splitProvider(provider?.principal ?? 'athenz.aws.us-west-2');
  const [issuer, setIssuer] = useState(`oidc.eks.${region}.amazonaws.com/id/<CLUSTER_ID>`);
  const [namespace, setNamespace] = useState(domain.replace(/\./g, '-'));
  const [serviceAccount, setServiceAccount] = useState(`${domain.replace(/\./g, '-')}-${service}`);
  if (!platform || !provider) return null;

  const full = `${domain}.${service}`;
  const workloadRole = `${full}-service`;
  const shown = accounts.length > 0 ? accounts : [ACCOUNT_PLACEHOLDER];
  const ztsHost = window.location.hostname;
  const ztsPort = config.ztsPort ?? DEFAULT_ZTS_PORT;
  const siad = `siad -cmd post -zts ${ztsHost} -ztsport ${ztsPort} -ztscacert ca.cert.pem \\\n  -dnsdomains ${config.dnsSuffix ?? DEFAULT_DNS_SUFFIX} -providerprefix ${prefix} -siadir /var/lib/sia`;
  const spec = PLATFORMS[platform];
  const ztsUrl = `https://${ztsHost}:${ztsPort}/zts/v1`;

  return (
    <section className="next-steps" aria-labelledby={titleId}>
      <h4 id={titleId}>Next steps in AWS</h4>
      {accounts.length === 0 && (
        <p className="notice">
          {domain} has no AWS account yet, and ZTS refuses workloads from accounts the domain does not name. Register it first: <code>zms-cli -d {domain} set-aws-account &lt;account-id&gt;</code>
        </p>
      )}
      <fieldset className="choice">
        <legend>Where the workload runs</legend>
        {platforms.map((p) => (
          <label key={p}>
            <input type="radio" name={`platform-${full}`} value={p} checked={platform === p} onChange={() => setChosen(p)} />
            {PLATFORMS[p].label}
          </label>
        ))}
      </fieldset>
      {platform === 'eks-irsa' && (
        <div className="irsa-fields">
          <TextField label="Cluster OIDC issuer" value={issuer} onChange={(e) => setIssuer(e.target.value.replace(/^https:\/\//, ''))} hint="aws eks describe-cluster --query cluster.identity.oidc.issuer (without https://)" />
          <TextField label="Namespace" value={namespace} onChange={(e) => setNamespace(e.target.value)} />
          <TextField label="Service account" value={serviceAccount} onChange={(e) => setServiceAccount(e.target.value)} />
        </div>
      )}
      {platform === 'eks-token' ? (
        <ol className="steps">
          <li>
            <p>
              Register the cluster&rsquo;s OIDC issuer as an IAM OIDC provider of {shown.join(', ')} (<code>eksctl utils associate-iam-oidc-provider --cluster &lt;cluster&gt; --approve</code>),
              and create the role <code>oidc-issuers-reader</code> there, allowed <code>iam:ListOpenIDConnectProviders</code>, that ZTS&rsquo;s own AWS role may assume: ZTS reads which clusters the account trusts through it, once, not per certificate.
            </p>
            {shown.map((account) => (
              <Policy
                key={account}
                label={`Trust policy of oidc-issuers-reader${shown.length > 1 ? ` in ${account}` : ''}`}
                text={policy({ Effect: 'Allow', Principal: { AWS: "<ZTS's AWS role ARN>" }, Action: 'sts:AssumeRole' })}
              />
            ))}
          </li>
          <li>
            <p>
              Run the pod as the service account <code>{full}</code> (ZTS requires <code>&lt;domain&gt;.&lt;service&gt;</code>), with a projected token for ZTS, named to siad by <code>TESSERA_SA_TOKEN_FILE</code>:
            </p>
            <pre aria-label="pod spec">{`serviceAccountName: ${full}\nvolumes:\n  - name: tessera-token\n    projected:\n      sources:\n        - serviceAccountToken: { audience: "${ztsUrl}", expirationSeconds: 3600, path: token }\n# siad container: mount tessera-token at /var/run/secrets/tessera, and\n#   env TESSERA_SA_TOKEN_FILE=/var/run/secrets/tessera/token`}</pre>
          </li>
          <li>
            <p>Run siad in the pod (as a sidecar, or once with this command); <code>siad -cmd diagnose</code> checks the token, its audience and the issuer:</p>
            <pre aria-label="siad command">{siad}</pre>
          </li>
          <li>
            <p>
              Without the token siad falls back to STS credentials: for that, also create the roles of <em>EKS, Pod Identity</em>. The whole pod spec: <code>docs/examples/eks-pod.yaml</code>.
            </p>
          </li>
        </ol>
      ) : (
      <ol className="steps">
        <li>
          <p>
            Create the workload role <code>{workloadRole}</code>, {spec.roleKind}. Its trust policy lets {platform === 'eks-irsa' ? 'the cluster’s OIDC provider' : 'AWS'} hand it to the {platform.startsWith('eks') ? 'pod' : 'task'}:
          </p>
          {shown.map((account) => (
            <Policy key={account} label={`Trust policy of ${workloadRole}${shown.length > 1 ? ` in ${account}` : ''}`} text={workloadTrust(platform, account, { issuer, namespace, serviceAccount })} />
          ))}
          {platform === 'eks-pod-identity' && (
            <pre>{`aws eks create-pod-identity-association --cluster-name <cluster> --namespace ${namespace} \\\n  --service-account ${serviceAccount} --role-arn arn:aws:iam::${shown[0]}:role/${workloadRole}`}</pre>
          )}
          {platform === 'eks-irsa' && <pre>{`# on the service account ${namespace}/${serviceAccount}\neks.amazonaws.com/role-arn: arn:aws:iam::${shown[0]}:role/${workloadRole}`}</pre>}
        </li>
        <li>
          <p>
            Create the role <code>{full}</code> with no permissions: its name is the identity siad asks ZTS for, and its trust policy lets the workload role assume it:
          </p>
          {shown.map((account) => (
            <Policy
              key={account}
              label={`Trust policy of ${full}${shown.length > 1 ? ` in ${account}` : ''}`}
              text={policy({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:role/${workloadRole}` }, Action: 'sts:AssumeRole' })}
            />
          ))}
        </li>
        <li>
          <p>Run siad in the {platform.startsWith('eks') ? 'pod' : 'task'} (as a sidecar, or once with this command):</p>
          <pre aria-label="siad command">{siad}</pre>
          <p className="muted">
            <code>-zts {ztsHost}</code> and <code>-ztsport {ztsPort}</code> are this server as your browser reaches it
            {config.ztsPort === undefined ? ` (ZTS port ${DEFAULT_ZTS_PORT}, Tessera's default: the server did not say)` : ''}; use the name your workloads reach it by. <code>ca.cert.pem</code> is the CA that signed ZTS's certificate (tessera serve writes it to its data dir, e.g. <code>./data/ca.cert.pem</code>).
          </p>
        </li>
        <li>
          <p>
            Ready-made files in the repository: <code>docs/examples/</code> — <code>fargate-task-definition.json</code>, <code>eks-pod.yaml</code> and the <code>Dockerfile</code> of the siad image (see the README, steps 5–7).
          </p>
        </li>
      </ol>
      )}
    </section>
  );
}

function Policy({ label, text }: { label: string; text: string }) {
  return (
    <figure className="policy-doc">
      <figcaption>{label}</figcaption>
      <pre aria-label={label}>{text}</pre>
    </figure>
  );
}
