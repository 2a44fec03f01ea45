import type { Metadata } from "next";
import type { ReactNode } from "react";
import "./globals.css";
import { Providers } from "./providers";

// Every page is rendered per request: the front's Content-Security-Policy carries a fresh nonce
// that Next puts on its scripts, and a prerendered page would have scripts without it.
export const dynamic = "force-dynamic";

export const metadata: Metadata = {
  title: { default: "tokendesk", template: "%s · tokendesk" },
  description: "Token broker and support console for mobile-SDK authentication",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <Providers>{children}</Providers>
      </body>
    </html>
  );
}
