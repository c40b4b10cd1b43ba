import type { Metadata } from "next";
import NewWorkspaceCredential from "../../../../../components/credentials/NewWorkspaceCredential.tsx";

export const metadata: Metadata = { title: "Add a credential" };

export default function Page() {
  return <NewWorkspaceCredential />;
}
