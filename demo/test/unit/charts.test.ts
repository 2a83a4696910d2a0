import { bufferingChart, deliveryChart, scaleChart } from '../../src/charts';

describe('chart specifications', () => {
  test('when buffering samples are charted, then placed, invoiced and queue depth are three series in seconds', () => {
    const spec = bufferingChart(
      [
        { t: 0, depth: 0, placed: 0, invoiced: 0 },
        { t: 1_500, depth: 120, placed: 300, invoiced: 180 },
      ],
      'invoicing.new-order',
    ) as {
      data: { values: { seconds: number; series: string; count: number }[] };
      title: { text: string };
    };
    expect(spec.title.text).toContain('300 orders');
    expect(spec.data.values).toContainEqual({
      seconds: 1.5,
      series: 'waiting in invoicing.new-order',
      count: 120,
    });
    expect(new Set(spec.data.values.map((v) => v.series))).toEqual(
      new Set(['orders placed', 'invoices issued', 'waiting in invoicing.new-order']),
    );
  });

  test('when delivery samples are charted, then the stop and start of Shipping are marked', () => {
    const spec = deliveryChart(
      [{ t: 0, depth: 0, shipped: 0 }],
      [
        { t: 200, label: 'Shipping stopped' },
        { t: 3_000, label: 'Shipping started' },
      ],
      'shipping.new-order',
    ) as { layer: { data: { values: unknown[] } }[] };
    expect(spec.layer[1]?.data.values).toEqual([
      { seconds: 0.2, label: 'Shipping stopped' },
      { seconds: 3, label: 'Shipping started' },
    ]);
  });

  test('when scale runs are charted, then throughput bars sit beside the drain lines, one per run', () => {
    const spec = scaleChart(
      [
        { label: '1 instance', processed: [{ t: 0, value: 0 }], rate: 61.26 },
        { label: '3 instances', processed: [{ t: 0, value: 0 }], rate: 170 },
      ],
      400,
    ) as { hconcat: { data: { values: { run: string; rate?: number }[] } }[] };
    expect(spec.hconcat).toHaveLength(2);
    expect(spec.hconcat[1]?.data.values).toEqual([
      { run: '1 instance', rate: 61.3 },
      { run: '3 instances', rate: 170 },
    ]);
  });
});
