import type { Metadata } from "next";
import WebhooksPage from "../../../../components/organization/WebhooksPage.tsx";

export const metadata: Metadata = { title: "Webhooks" };

export default function Page() {
  return <WebhooksPage />;
}
