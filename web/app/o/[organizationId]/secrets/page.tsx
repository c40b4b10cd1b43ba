import type { Metadata } from "next";
import OrganizationSecretsPage from "../../../../components/organization/OrganizationSecretsPage.tsx";

export const metadata: Metadata = { title: "Organization secrets" };

export default function Page() {
  return <OrganizationSecretsPage />;
}
