import { parsePrometheusText } from '../../src/prometheus-text';

describe('reading a service /metrics', () => {
  test('when the text has many metrics, then only the wanted ones are returned with their labels', () => {
    const text = [
      '# HELP queue_depth Messages ready',
      '# TYPE queue_depth gauge',
      'queue_depth{queue="invoicing.new-order"} 42',
      'dead_letters{queue="invoicing.new-order"} 3',
      'process_cpu_seconds_total 12.5',
      'messages_consumed_total{queue="a\\"b",type="NewOrder",outcome="processed"} 7',
    ].join('\n');

    const samples = parsePrometheusText(text, new Set(['queue_depth', 'messages_consumed_total']));

    expect(samples).toEqual([
      { name: 'queue_depth', labels: { queue: 'invoicing.new-order' }, value: 42 },
      {
        name: 'messages_consumed_total',
        labels: { queue: 'a"b', type: 'NewOrder', outcome: 'processed' },
        value: 7,
      },
    ]);
  });
});
