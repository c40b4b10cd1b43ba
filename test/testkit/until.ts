/**
 * Polls `done` every 50 ms, for at most 400 rounds (20 s) and while `alive` holds; then
 * throws `why()`. For waiting on other processes, whose progress a test cannot await.
 */
export async function until(
  done: () => boolean | Promise<boolean>,
  why: () => string,
  alive: () => boolean = () => true,
): Promise<void> {
  for (let round = 0; round < 400; round++) {
    if (await done()) return;
    if (!alive()) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(why());
}
