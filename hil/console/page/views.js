// What the views show comes from the messages app.js applies (snapshot, batch). To show
// what was true at an earlier time, replay (replay.js) makes every view forget it all and
// re-applies the recording up to that time: each view registers here how it forgets.
const resets = [];

/** Registers `fn`, called by resetViews() to empty a view (as before the first message). */
export function onReset(fn) {
  resets.push(fn);
}

/** Empties every registered view. */
export function resetViews() {
  for (const fn of resets) fn();
}
