/**
 * "Add a Service": name, optional description, optional public key (id + PEM).
 * Unlike Athenz, a key with only one half filled in is an error rather than
 * silently dropped, and an existing name is refused rather than overwritten.
 */
import { useState, type FormEvent } from 'react';
import { useApp } from '../app-context.tsx';
import { ErrorMessage } from '../components/ErrorMessage.tsx';
import { TextArea, TextField } from '../components/Field.tsx';
import { AddActions, Modal } from '../components/Modal.tsx';
import { normalizePem, ybase64Encode } from '../format.ts';
import { useAction } from '../use-load.ts';
import { zms, type ServiceIdentity } from '../zms-client.ts';

interface AddServiceProps {
  domain: string;
  existing: string[];
  onClose(): void;
  onAdded(name: string): Promise<void>;
}

export function AddServiceDialog({ domain, existing, onClose, onAdded }: AddServiceProps) {
  const { api } = useApp();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [keyId, setKeyId] = useState('');
  const [pem, setPem] = useState('');
  const { busy, error, setError, run } = useAction();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const service = name.trim().toLowerCase();
    if (!service) return setError('Enter a service name.');
    if (existing.includes(service)) return setError(`Service ${domain}.${service} already exists: choose another name.`);
    if (!!keyId.trim() !== !!pem.trim()) return setError('A public key needs both its key id and its PEM: fill in both, or neither.');
    const body: ServiceIdentity = { name: `${domain}.${service}` };
    if (description.trim()) body.description = description.trim();
    if (pem.trim()) {
      const normalized = normalizePem(pem);
      if (!normalized) return setError('The public key must be a PEM block, from -----BEGIN PUBLIC KEY----- to -----END PUBLIC KEY-----.');
      body.publicKeys = [{ id: keyId.trim(), key: ybase64Encode(normalized) }];
    }
    await run(async () => {
      await zms.putService(api, domain, service, body);
      await onAdded(service);
    });
  };

  return (
    <Modal title={`Add a Service to ${domain}`} onClose={onClose}>
      <form onSubmit={submit} noValidate>
        <TextField label="Service name" required value={name} onChange={(e) => setName(e.target.value)} hint={`Letters, digits and -; the identity is ${domain}.${name.trim().toLowerCase() || '<name>'}`} />
        <TextField label="Description" value={description} onChange={(e) => setDescription(e.target.value)} />
        <p className="note">
          Workloads launched by an identity provider (AWS EC2, EKS, Fargate, ECS) get X.509 certificates without a key registered here. Add a public key only if the service signs its own tokens.
        </p>
        <TextField label="Public key id" value={keyId} onChange={(e) => setKeyId(e.target.value)} hint="e.g. 0 or v1" />
        <TextArea label="Public key (PEM)" value={pem} onChange={(e) => setPem(e.target.value)} rows={5} spellCheck={false} placeholder={'-----BEGIN PUBLIC KEY-----\n…\n-----END PUBLIC KEY-----'} />
        <ErrorMessage error={error} />
        <AddActions label="Add a Service" busy={busy} onCancel={onClose} />
      </form>
    </Modal>
  );
}
