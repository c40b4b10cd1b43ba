import type { Metadata } from "next";
import NewOrganizationSecret from "../../../../../components/organization/NewOrganizationSecret.tsx";

export const metadata: Metadata = { title: "Add an organization secret" };

export default function Page() {
  return <NewOrganizationSecret />;
}
