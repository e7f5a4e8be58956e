// The certificate as an Open Badges 3.0 OpenBadgeCredential (a W3C Verifiable Credential 2.0).
// It carries no cryptographic proof of its own: it is anchored by the document hash the
// certificate contract holds on Stellar, which the evidence entry points to.
import type { CertificateView } from './certificates.repository.ts';

export const OB3_CONTEXT = 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json';
export const VC2_CONTEXT = 'https://www.w3.org/ns/credentials/v2';

export interface BadgeUrls {
  web: string;
  verify: string;
  credential: string;
  document: string;
}

/** CAIP-2 style reference of the Stellar network for did:pkh subjects. */
function caipNetwork(network: string): string {
  if (network === 'mainnet' || network === 'pubnet' || network === 'public') return 'pubnet';
  return network;
}

export function buildOpenBadge(
  cert: CertificateView,
  urls: BadgeUrls,
  network: string,
  certificateContract: string,
) {
  const anchored = cert.chain_certificate_id !== null && cert.tx_hash !== null;
  const onChain = anchored
    ? `Anchored on Stellar ${cert.network ?? network} by certificate contract ${cert.contract_id} as certificate ${cert.chain_certificate_id} (transaction ${cert.tx_hash}, ledger ${cert.ledger}).`
    : `Being anchored on Stellar ${network}${certificateContract ? ` by certificate contract ${certificateContract}` : ''}.`;
  return {
    '@context': [VC2_CONTEXT, OB3_CONTEXT],
    id: urls.verify,
    type: ['VerifiableCredential', 'OpenBadgeCredential'],
    name: `${cert.course_title}: certificate of completion`,
    issuer: { id: urls.web, type: ['Profile'], name: 'Starling', url: urls.web },
    validFrom: cert.issued_at.toISOString(),
    ...(cert.revoked_at ? { validUntil: cert.revoked_at.toISOString() } : {}),
    credentialSubject: {
      id: `did:pkh:stellar:${caipNetwork(cert.network ?? network)}:${cert.student_address}`,
      type: ['AchievementSubject'],
      achievement: {
        id: `${urls.web}/courses/${cert.course_slug}`,
        type: ['Achievement'],
        achievementType: 'Certificate',
        name: cert.course_title,
        description: `Completion of every lesson of "${cert.course_title}" on Starling.`,
        criteria: { narrative: 'Complete every lesson of the course.' },
      },
    },
    evidence: [
      {
        id: urls.document,
        type: ['Evidence'],
        name: 'Certificate document (RFC 8785 canonical JSON)',
        description: `SHA-256 ${cert.document_hash}. ${onChain}`,
        narrative: `sha256:${cert.document_hash}`,
      },
    ],
    credentialStatus: {
      id: urls.credential,
      type: 'StarlingCredentialStatus',
      status: cert.status,
    },
  };
}
