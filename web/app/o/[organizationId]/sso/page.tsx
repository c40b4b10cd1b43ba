import type { Metadata } from "next";
import SingleSignOnPage from "../../../../components/organization/SingleSignOnPage.tsx";

export const metadata: Metadata = { title: "Single sign-on" };

export default function Page() {
  return <SingleSignOnPage />;
}
