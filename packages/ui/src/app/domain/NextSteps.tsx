/**
 * "Next steps", shown once a provider may launch the service. *In AWS*: the
 * two IAM roles with their trust policies filled in with the domain's
 * account(s), the siad command, and the examples — what the README's steps 5
 * and 6 say, for this domain and service. *Locally (aws-sim)*: the same steps
 * as commands against aws-sim, as the README's walkthrough runs them.
 */
import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { useApp } from '../app-context.tsx';
import { CodeBlock } from '../components/CodeBlock.tsx';
import { TextField } from '../components/Field.tsx';
import { DEFAULT_DNS_SUFFIX, DEFAULT_ZTS_PORT, type ProviderConfig } from '../providers.ts';
import { localSteps, type LocalPlatform } from './local-steps.ts';
import { policy, serviceTrust, splitProvider, workloadTrust, type Platform } from './trust-policies.ts';

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

interface NextStepsProps {
  domain: string;
  accounts: string[];
  service: string;
  /** The providers ZMS says may launch the service now. */
  allowed: ProviderConfig[];
  /** Bumped right after Allow: focus moves to these steps and they scroll into view. */
  focusRequest?: number;
}

type Where = 'aws' | 'local';

export function NextSteps({ domain, accounts, service, allowed, focusRequest = 0 }: NextStepsProps) {
  const { config } = useApp();
  const titleId = useId();
  const tabsId = useId();
  const heading = useRef<HTMLHeadingElement>(null);
  const [where, setWhere] = useState<Where>('aws');
  const [localPlatform, setLocalPlatform] = useState<LocalPlatform>('eks-token');
  const platforms = (Object.keys(PLATFORMS) as Platform[]).filter((p) => allowed.some((a) => a.template === PLATFORMS[p].template));
  const [chosen, setChosen] = useState<Platform>();
  const platform = chosen && platforms.includes(chosen) ? chosen : platforms[0];
  const provider = platform && allowed.find((a) => a.template === PLATFORMS[platform].template);
  const { prefix, region } = splitProvider(provider?.principal ?? 'athenz.aws.us-west-2');
  const [issuer, setIssuer] = useState(`oidc.eks.${region}.amazonaws.com/id/<CLUSTER_ID>`);
  const [namespace, setNamespace] = useState(domain.replace(/\./g, '-'));
  const [serviceAccount, setServiceAccount] = useState(`${domain.replace(/\./g, '-')}-${service}`);
  useEffect(() => {
    if (focusRequest === 0 || !heading.current) return;
    // Keyboard and screen-reader users land on what to do next; the heading's top is scrolled into view.
    heading.current.focus({ preventScroll: true });
    heading.current.closest('section')?.scrollIntoView({ block: 'start' });
  }, [focusRequest]);
  if (!platform || !provider) return null;

  const full = `${domain}.${service}`;
  const workloadRole = `${full}-service`;
  const shown = accounts.length > 0 ? accounts : [ACCOUNT_PLACEHOLDER];
  const ztsHost = window.location.hostname;
  const ztsPort = config.ztsPort ?? DEFAULT_ZTS_PORT;
  const siad = `siad -cmd post -zts ${ztsHost} -ztsport ${ztsPort} -ztscacert ca.cert.pem \\\n  -dnsdomains ${config.dnsSuffix ?? DEFAULT_DNS_SUFFIX} -providerprefix ${prefix} -siadir /var/lib/sia`;
  const spec = PLATFORMS[platform];
  const ztsUrl = `https://${ztsHost}:${ztsPort}/zts/v1`;

  const localProvider = allowed.find((a) => a.template === PLATFORMS.fargate.template);
  const tabs: { id: Where; label: string }[] = [
    { id: 'aws', label: 'In AWS' },
    { id: 'local', label: 'Locally (aws-sim)' },
  ];
  // WAI-ARIA tabs: arrow keys move between the two.
  const onTabKey = (e: KeyboardEvent<HTMLButtonElement>) => {
    if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
    e.preventDefault();
    const next: Where = where === 'aws' ? 'local' : 'aws';
    setWhere(next);
    document.getElementById(`${tabsId}-${next}`)?.focus();
  };

  return (
    <section className="next-steps" aria-labelledby={titleId}>
      <h4 id={titleId} ref={heading} tabIndex={-1}>
        Next steps
      </h4>
      <div role="tablist" aria-label="Where to take the next steps" className="mini-tabs">
        {tabs.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            id={`${tabsId}-${t.id}`}
            aria-selected={where === t.id}
            aria-controls={`${tabsId}-${t.id}-panel`}
            tabIndex={where === t.id ? 0 : -1}
            onClick={() => setWhere(t.id)}
            onKeyDown={onTabKey}
          >
            {t.label}
          </button>
        ))}
      </div>
      {where === 'local' ? (
        <div role="tabpanel" id={`${tabsId}-local-panel`} aria-labelledby={`${tabsId}-local`}>
          {localProvider ? (
            <LocalSteps domain={domain} service={service} accounts={accounts} provider={localProvider.principal} platform={localPlatform} onPlatform={setLocalPlatform} />
          ) : (
            <p className="notice">aws-sim runs Fargate tasks and EKS pods, which siad registers with the AWS EC2, EKS or Fargate provider: allow it above to try {domain}.{service} locally.</p>
          )}
        </div>
      ) : (
        <div role="tabpanel" id={`${tabsId}-aws-panel`} aria-labelledby={`${tabsId}-aws`}>
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
              <CodeBlock
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
            <CodeBlock label="pod spec" caption={false} text={`serviceAccountName: ${full}\nvolumes:\n  - name: tessera-token\n    projected:\n      sources:\n        - serviceAccountToken: { audience: "${ztsUrl}", expirationSeconds: 3600, path: token }\n# siad container: mount tessera-token at /var/run/secrets/tessera, and\n#   env TESSERA_SA_TOKEN_FILE=/var/run/secrets/tessera/token`} />
          </li>
          <li>
            <p>Run siad in the pod (as a sidecar, or once with this command); <code>siad -cmd diagnose</code> checks the token, its audience and the issuer:</p>
            <CodeBlock label="siad command" text={siad} caption={false} />
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
            <CodeBlock key={account} label={`Trust policy of ${workloadRole}${shown.length > 1 ? ` in ${account}` : ''}`} text={workloadTrust(platform, account, { issuer, namespace, serviceAccount })} />
          ))}
          {platform === 'eks-pod-identity' && (
            <CodeBlock
              label="Pod Identity association command"
              caption={false}
              text={`aws eks create-pod-identity-association --cluster-name <cluster> --namespace ${namespace} \\\n  --service-account ${serviceAccount} --role-arn arn:aws:iam::${shown[0]}:role/${workloadRole}`}
            />
          )}
          {platform === 'eks-irsa' && <CodeBlock label="Service account annotation" caption={false} text={`# on the service account ${namespace}/${serviceAccount}\neks.amazonaws.com/role-arn: arn:aws:iam::${shown[0]}:role/${workloadRole}`} />}
        </li>
        <li>
          <p>
            Create the role <code>{full}</code> with no permissions: its name is the identity siad asks ZTS for, and its trust policy lets the workload role assume it:
          </p>
          {shown.map((account) => (
            <CodeBlock key={account} label={`Trust policy of ${full}${shown.length > 1 ? ` in ${account}` : ''}`} text={serviceTrust(account, workloadRole)} />
          ))}
        </li>
        <li>
          <p>Run siad in the {platform.startsWith('eks') ? 'pod' : 'task'} (as a sidecar, or once with this command):</p>
          <CodeBlock label="siad command" text={siad} caption={false} />
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
        </div>
      )}
    </section>
  );
}

const LOCAL_PLATFORMS: Record<LocalPlatform, string> = {
  'eks-token': 'EKS pod, projected token (no STS call)',
  fargate: 'Fargate task (STS)',
  'eks-pod-identity': 'EKS pod, Pod Identity credentials (STS)',
};

interface LocalStepsProps {
  domain: string;
  service: string;
  accounts: string[];
  provider: string;
  platform: LocalPlatform;
  onPlatform(p: LocalPlatform): void;
}

/** The README's walkthrough (steps 5 to 7) for this domain and service, against aws-sim. */
function LocalSteps({ domain, service, accounts, provider, platform, onPlatform }: LocalStepsProps) {
  const { config } = useApp();
  const steps = localSteps({
    domain,
    service,
    account: accounts[0] ?? ACCOUNT_PLACEHOLDER,
    provider,
    platform,
    ztsHost: window.location.hostname,
    ztsPort: config.ztsPort ?? DEFAULT_ZTS_PORT,
    dnsSuffix: config.dnsSuffix ?? DEFAULT_DNS_SUFFIX,
  });
  return (
    <>
      <p>
        On this machine, with aws-sim standing in for AWS — the README's walkthrough, filled in for {domain}.{service}. aws-sim and this server must run as in its step 1:
      </p>
      <CodeBlock label="Start aws-sim and the server" text={steps.start} />
      {accounts.length === 0 && (
        <p className="notice">
          {domain} has no AWS account yet: register aws-sim's, <code>zms-cli -d {domain} set-aws-account 123456789012</code>, and use it below.
        </p>
      )}
      <fieldset className="choice">
        <legend>The workload</legend>
        {(Object.keys(LOCAL_PLATFORMS) as LocalPlatform[]).map((p) => (
          <label key={p}>
            <input type="radio" name={`local-${domain}.${service}`} value={p} checked={platform === p} onChange={() => onPlatform(p)} />
            {LOCAL_PLATFORMS[p]}
          </label>
        ))}
      </fieldset>
      <p>Then, from the same directory, in a second terminal: the two roles, the workload, siad's checks, its certificate:</p>
      <CodeBlock label="Local commands" text={steps.commands} />
      <p className="muted">
        <code>diagnose</code> checks each link and names the fix; nothing is issued until <code>post</code>. The certificate lands in <code>./sia</code>; the instance then shows under the service's instances.
        {platform === 'eks-token'
          ? ' ZTS checks the pod\u2019s token against the cluster issuer\u2019s keys, with no STS call: siad logs attestation by eks-token.'
          : ' ZTS checks the credentials siad sends with one STS call per certificate: siad logs attestation by sts.'}
      </p>
    </>
  );
}
