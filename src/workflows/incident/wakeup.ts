// One timer for the incident's next due time (the core's nextWakeup), kept while that time stands: an input
// that does not move it (a delivery done, a note) costs no timer cancelled and started again. Whether it
// fired is in history.
import * as wf from '@temporalio/workflow';

export class WakeupTimer {
  private timer: { at: number; fired: boolean; scope: wf.CancellationScope } | null = null;

  /** `onFire`: wakes the main loop. */
  constructor(private readonly onFire: () => void) {}

  /** Sleeps until `at` (real epoch ms), or not at all (null). */
  set(at: number | null): void {
    if (at === null) return this.disarm();
    if (this.timer && this.timer.at === at && !this.timer.fired) return;
    this.disarm();
    const scope = new wf.CancellationScope();
    const armed = { at, fired: false, scope };
    this.timer = armed;
    // The duration may differ on replay (it is not compared).
    scope
      .run(() => wf.sleep(Math.max(1, Math.ceil(at - Date.now()))))
      .then(
        () => {
          armed.fired = true;
          this.onFire();
        },
        () => undefined, // cancelled: the due time moved
      );
  }

  /** The due time of the timer that fired (and forgets it), or null. */
  fired(): number | null {
    if (!this.timer?.fired) return null;
    const { at } = this.timer;
    this.timer = null;
    return at;
  }

  private disarm(): void {
    this.timer?.scope.cancel();
    this.timer = null;
  }
}
