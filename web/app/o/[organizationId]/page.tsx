import type { Metadata } from "next";
import OrganizationOverview from "../../../components/organization/OrganizationOverview.tsx";

export const metadata: Metadata = { title: "Organization" };

export default function Page() {
  return <OrganizationOverview />;
}
