"use client";

import { useEffect, useState } from "react";
import { takeFlash, type Flash } from "./flash.ts";

/** The message the previous page left for this one, if any (shown once). */
export function useFlash(): Flash | null {
  const [flash, setFlash] = useState<Flash | null>(null);
  useEffect(() => {
    const pending = takeFlash();
    if (pending) setFlash(pending);
  }, []);
  return flash;
}
