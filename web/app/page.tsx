import type { Metadata } from "next";
import SignInPage from "../components/SignInPage.tsx";

export const metadata: Metadata = { title: "Sign in" };

export default function HomePage() {
  return <SignInPage />;
}
