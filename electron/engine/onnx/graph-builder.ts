import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** The operator set the explain graph is written for: every op it uses (GreaterOrEqual among them) is in it. */
const DEFAULT_OPSET = 13;
const IR_VERSION = 8;
/** onnxruntime's own operators (FusedMatMul), which it registers under this domain. */
export const MICROSOFT_DOMAIN = 'com.microsoft';

/** Integers (strides, pads, axes...) or a string (ScatterElements' reduction). */
type Attribute = number | number[] | string;

/** A float32 tensor for an initializer, with its dims in ONNX order. */
export interface FloatTensor {
  dims: number[];
  data: Float32Array;
}

/**
 * Writes one ONNX graph node by node: unique value names, float and int64 initializers, and
 * the model's bytes for onnxruntime. Only what Kizu's graphs need (integer and float
 * attributes, float32 values) is covered.
 */
export class GraphBuilder {
  private readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  private readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private readonly inputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private readonly outputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private next = 0;
  private usesMicrosoftOps = false;

  /** `opset`: the ONNX operator set the graph's standard ops are taken from. */
  constructor(private readonly opset = DEFAULT_OPSET) {}

  private fresh(hint: string): string {
    return `${hint}_${this.next++}`;
  }

  input(name: string, dims: number[], elemType: 'float' | 'int64' = 'float'): string {
    this.inputs.push(valueInfo(name, dims, elemType));
    return name;
  }

  output(name: string, value: string): void {
    this.nodes.push(onnx.NodeProto.create({ opType: 'Identity', input: [value], output: [name], name: `out_${name}` }));
    this.outputs.push(onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } }));
  }

  float(name: string, tensor: FloatTensor): string {
    const data = tensor.data;
    this.initializers.push(onnx.TensorProto.create({
      name, dims: tensor.dims, dataType: onnx.TensorProto.DataType.FLOAT,
      rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    }));
    return name;
  }

  int64(values: number[]): string {
    const name = this.fresh('const');
    this.initializers.push(onnx.TensorProto.create({
      name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64,
      rawData: new Uint8Array(BigInt64Array.from(values, BigInt).buffer),
    }));
    return name;
  }

  scalar(value: number): string {
    return this.float(this.fresh('scalar'), { dims: [], data: Float32Array.of(value) });
  }

  /** Adds `op` on `inputs` and returns the name of its (first) output. */
  op(opType: string, inputs: string[], attributes: Record<string, Attribute> = {}, outputs = 1, domain = ''): string {
    return this.opOutputs(opType, inputs, attributes, outputs, domain)[0];
  }

  /** Adds `op` and returns the names of all its outputs. */
  opOutputs(opType: string, inputs: string[], attributes: Record<string, Attribute>, outputs: number, domain = ''): string[] {
    if (domain === MICROSOFT_DOMAIN) this.usesMicrosoftOps = true;
    const names = Array.from({ length: outputs }, () => this.fresh(opType.toLowerCase()));
    this.nodes.push(onnx.NodeProto.create({
      opType, domain, input: inputs, output: names, name: this.fresh(`n_${opType}`),
      attribute: Object.entries(attributes).map(([name, value]) => attribute(name, value)),
    }));
    return names;
  }

  encode(graphName: string): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      producerName: 'kizu',
      opsetImport: [{ domain: '', version: this.opset }, ...(this.usesMicrosoftOps ? [{ domain: MICROSOFT_DOMAIN, version: 1 }] : [])],
      graph: { name: graphName, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function valueInfo(name: string, dims: number[], elemType: 'float' | 'int64') {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType: elemType === 'float' ? onnx.TensorProto.DataType.FLOAT : onnx.TensorProto.DataType.INT64,
        shape: { dim: dims.map((d) => ({ dimValue: d })) },
      },
    },
  });
}

function attribute(name: string, value: Attribute) {
  const { AttributeType } = onnx.AttributeProto;
  if (typeof value === 'string') return onnx.AttributeProto.create({ name, type: AttributeType.STRING, s: new TextEncoder().encode(value) });
  const values = Array.isArray(value) ? value : [value];
  if (!values.every(Number.isInteger)) throw new Error(`ONNX attribute ${name} must be integers, not ${String(value)}`);
  if (Array.isArray(value)) return onnx.AttributeProto.create({ name, type: AttributeType.INTS, ints: value });
  return onnx.AttributeProto.create({ name, type: AttributeType.INT, i: value });
}
