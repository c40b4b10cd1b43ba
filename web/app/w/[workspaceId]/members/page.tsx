import type { Metadata } from "next";
import WorkspaceMembersPage from "../../../../components/workspace/WorkspaceMembersPage.tsx";

export const metadata: Metadata = { title: "Workspace members" };

export default function Page() {
  return <WorkspaceMembersPage />;
}
