// The order of the `faults-serial` run (one file at a time): jest's own, except that the check
// that a run on containers reached no local server comes last, after the broker-stopping tests.
const Sequencer = require('@jest/test-sequencer').default;

class SerialSequencer extends Sequencer {
  sort(tests) {
    const last = (test) => (/no-local-servers\.serial\.test\.ts$/.test(test.path) ? 1 : 0);
    return [...super.sort(tests)].sort((a, b) => last(a) - last(b));
  }
}

module.exports = SerialSequencer;
