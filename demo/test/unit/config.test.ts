import { ConfigError } from '@app/runtime';
import { readDemoConfig, selectScenarios } from '../../src/config';

describe('demo configuration', () => {
  test('when nothing is chosen or all is, then every scenario runs in the demo order', () => {
    const all = [
      'two-styles',
      'payment',
      'buffering',
      'guaranteed-delivery',
      'decoupling',
      'scale',
    ];
    expect(selectScenarios('')).toEqual(all);
    expect(selectScenarios('all')).toEqual(all);
  });

  test('when scenarios are named in any order or by alias, then they run once each in the demo order', () => {
    expect(selectScenarios('scale, delivery buffering,scale')).toEqual([
      'buffering',
      'guaranteed-delivery',
      'scale',
    ]);
  });

  test('when an unknown scenario is named, then the error lists the known ones', () => {
    expect(() => selectScenarios('bufering')).toThrow(
      /Unknown scenario "bufering"; known: two-styles, payment, buffering/,
    );
  });

  test('when read from the environment, then SCENARIO chooses unless the command line names scenarios', () => {
    expect(readDemoConfig({ SCENARIO: 'buffering' }, []).scenarios).toEqual(['buffering']);
    expect(readDemoConfig({ SCENARIO: 'buffering' }, ['scale']).scenarios).toEqual(['scale']);
    expect(readDemoConfig({}, []).DEMO_NAME).toBe('demo');
  });

  test('when the name would touch databases that are not the demo’s or a test’s, then it is refused', () => {
    expect(() => readDemoConfig({ DEMO_NAME: 'order' }, [])).toThrow(ConfigError);
    expect(readDemoConfig({ DEMO_NAME: 'test_demo_42' }, []).DEMO_NAME).toBe('test_demo_42');
  });
});
