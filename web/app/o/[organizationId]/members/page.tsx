import type { Metadata } from "next";
import MembersPage from "../../../../components/organization/MembersPage.tsx";

export const metadata: Metadata = { title: "Members" };

export default function Page() {
  return <MembersPage />;
}
