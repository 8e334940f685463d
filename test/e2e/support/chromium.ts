import { chromium, type BrowserContext } from 'playwright-core';

/** Debian's Chromium (playwright-core downloads nothing; .ci/run installs the package). */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Headless Chromium on a fresh profile. The background-networking flags matter here: without them
 * Chromium keeps reaching for Google's hosts, which this machine's closed network refuses.
 */
export function launchChromium(profile: string, viewport: { width: number; height: number }): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport,
  });
}
