import type { Metadata } from "next";
import OAuthPage from "../../../../components/oauth/OAuthPage.tsx";

export const metadata: Metadata = { title: "OAuth connections" };

export default function Page() {
  return <OAuthPage />;
}
