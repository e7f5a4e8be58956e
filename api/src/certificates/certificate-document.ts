// The certificate document: a small JSON object frozen at issue. Its RFC 8785 (JCS) canonical form
// is what gets hashed and anchored on chain (issue_credential's metadata_hash), and what the API
// serves byte for byte, so anyone can recompute SHA-256 over it and compare with the chain.
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

export const CERTIFICATE_DOCUMENT_TYPE = 'StarlingCertificate';

export interface CertificateDocument {
  type: typeof CERTIFICATE_DOCUMENT_TYPE;
  version: 1;
  id: string;
  learner: { name: string; address: string };
  course: { id: string; title: string; slug: string; instructor: string };
  completed_at: string;
  issuer: { name: string; url: string };
  network: string;
}

export interface DocumentInput {
  certificateId: string;
  learner: { name: string; address: string };
  course: { id: string; title: string; slug: string; instructor: string };
  completedAt: Date;
  issuerUrl: string;
  network: string;
}

export function buildCertificateDocument(input: DocumentInput): CertificateDocument {
  return {
    type: CERTIFICATE_DOCUMENT_TYPE,
    version: 1,
    id: input.certificateId,
    learner: input.learner,
    course: input.course,
    // Second precision: the same instant reads the same in JS, Postgres and any verifier.
    completed_at: new Date(Math.floor(input.completedAt.getTime() / 1000) * 1000)
      .toISOString()
      .replace('.000Z', 'Z'),
    issuer: { name: 'Starling', url: input.issuerUrl },
    network: input.network,
  };
}

/** RFC 8785 canonical JSON of any JSON value. */
export function canonicalJson(value: unknown): string {
  const out = canonicalize(value);
  if (out === undefined) throw new Error('value has no JSON form');
  return out;
}

/** Lowercase hex SHA-256 of the UTF-8 bytes of the canonical JSON. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export function hashDocument(doc: unknown): { canonical: string; hash: string } {
  const canonical = canonicalJson(doc);
  return { canonical, hash: sha256Hex(canonical) };
}
