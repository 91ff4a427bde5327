/** Imported first by main.ts, for its side effect: the first screen's requests leave before the app's code runs. */
import { prefetchFirstScreen } from './prefetch';

// An answer link (#/answer/…) opens without a session: nothing to fetch for it.
if (!location.hash.startsWith('#/answer/')) prefetchFirstScreen(location.hash);
