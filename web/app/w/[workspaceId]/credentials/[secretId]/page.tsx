import type { Metadata } from "next";
import WorkspaceCredential from "../../../../../components/credentials/WorkspaceCredential.tsx";

export const metadata: Metadata = { title: "Credential" };

export default function Page() {
  return <WorkspaceCredential />;
}
