// The seam for an identity-verification vendor. No external provider is reachable from here, so the
// one shipped is manual review: submissions wait as `pending` for an admin's decision.
export interface KycApplicant {
  userId: string;
  fullName: string;
  country: string;
  documentType: string;
}

export interface KycProviderResult {
  status: 'pending' | 'verified' | 'rejected';
  reference: string | null;
}

export interface KycProvider {
  readonly name: string;
  submit(applicant: KycApplicant): Promise<KycProviderResult>;
}

export function createManualReviewProvider(): KycProvider {
  return {
    name: 'manual',
    async submit() {
      return { status: 'pending', reference: null };
    },
  };
}
