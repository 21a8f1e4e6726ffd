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
import { nameProblem, useValidation } from '../use-validation.ts';
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
  const { busy, error, run } = useAction();
  const v = useValidation<'name' | 'keyId' | 'pem'>();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const service = name.trim().toLowerCase();
    const normalized = normalizePem(pem);
    const ok = v.check({
      name: nameProblem('service name', name) ?? (existing.includes(service) ? `"${name.trim()}" is already a service of ${domain}: choose another name.` : undefined),
      keyId: pem.trim() && !keyId.trim() ? 'A public key needs its key id: fill it in, or clear the PEM.' : undefined,
      pem: keyId.trim() && !pem.trim() ? 'Paste the public key for this key id, or clear the key id.' : pem.trim() && !normalized ? 'The public key must be a PEM block, from -----BEGIN PUBLIC KEY----- to -----END PUBLIC KEY-----.' : undefined,
    });
    if (!ok) return;
    const body: ServiceIdentity = { name: `${domain}.${service}` };
    if (description.trim()) body.description = description.trim();
    if (normalized) body.publicKeys = [{ id: keyId.trim(), key: ybase64Encode(normalized) }];
    await run(async () => {
      await zms.putService(api, domain, service, body);
      await onAdded(service);
    });
  };

  return (
    <Modal title={`Add a Service to ${domain}`} onClose={onClose}>
      <form onSubmit={submit} noValidate ref={v.formRef}>
        <TextField label="Service name" required error={v.errors.name} value={name} onChange={(e) => setName(e.target.value)} hint={`Letters, digits, _ and -; the identity is ${domain}.${name.trim().toLowerCase() || '<name>'}`} />
        <TextField label="Description" value={description} onChange={(e) => setDescription(e.target.value)} />
        <p className="note">
          Workloads launched by an identity provider (AWS EC2, EKS, Fargate, ECS) get X.509 certificates without a key registered here. Add a public key only if the service signs its own tokens.
        </p>
        <TextField label="Public key id" error={v.errors.keyId} value={keyId} onChange={(e) => setKeyId(e.target.value)} hint="e.g. 0 or v1" />
        <TextArea label="Public key (PEM)" error={v.errors.pem} value={pem} onChange={(e) => setPem(e.target.value)} rows={5} spellCheck={false} placeholder={'-----BEGIN PUBLIC KEY-----\n…\n-----END PUBLIC KEY-----'} />
        <ErrorMessage error={error} />
        <AddActions label="Add a Service" busy={busy} onCancel={onClose} />
      </form>
    </Modal>
  );
}
