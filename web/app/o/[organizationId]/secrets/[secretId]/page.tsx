import type { Metadata } from "next";
import OrganizationSecret from "../../../../../components/organization/OrganizationSecret.tsx";

export const metadata: Metadata = { title: "Organization secret" };

export default function Page() {
  return <OrganizationSecret />;
}
