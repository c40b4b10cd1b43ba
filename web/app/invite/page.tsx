import type { Metadata } from "next";
import InvitePage from "../../components/InvitePage.tsx";

export const metadata: Metadata = { title: "Invitation" };

export default function Page() {
  return <InvitePage />;
}
