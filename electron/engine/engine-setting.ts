/** The libraries that can run the network's passes: onnxruntime where it loads, tfjs always. */
export const ENGINE_NAMES = ['onnxruntime', 'tfjs'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

/**
 * An environment setting (KIZU_EXPLAIN_ENGINE, KIZU_TRAIN_ENGINE) that forces one engine;
 * unset or empty forces none, and onnxruntime is then used where it loads.
 */
export function parseEngineSetting(variable: string, value: string | undefined): EngineName | undefined {
  if (value === undefined || value === '') return undefined;
  if ((ENGINE_NAMES as readonly string[]).includes(value)) return value as EngineName;
  throw new Error(`${variable} must be ${ENGINE_NAMES.join(' or ')}, not "${value}"`);
}
