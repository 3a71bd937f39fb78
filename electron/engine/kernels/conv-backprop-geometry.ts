import { backend_util } from '@tensorflow/tfjs-core';
import type { Conv2DBackpropFilterAttrs } from '@tensorflow/tfjs-core';

type Shape4 = [number, number, number, number];

/** A conv2d's sizes and paddings in NHWC terms, whatever the caller's data format. */
export interface ConvBackpropGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  padTop: number;
  padLeft: number;
  channelsFirst: boolean;
}

/**
 * Works out the forward convolution's geometry the way tfjs's own backprop kernels do
 * (computeConv2DInfo, dilation 1), and checks that dy has the shape that forward conv
 * would have produced.
 */
export function convBackpropGeometry(
  kernelName: string,
  inputShape: Shape4,
  filterShape: Shape4,
  dyShape: number[],
  attrs: Omit<Conv2DBackpropFilterAttrs, 'filterShape'>,
): ConvBackpropGeometry {
  const dataFormat = backend_util.convertConv2DDataFormat(attrs.dataFormat);
  const info = backend_util.computeConv2DInfo(
    inputShape, filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, dataFormat);
  const expected = info.outShape;
  if (dyShape.length !== 4 || dyShape.some((d, i) => d !== expected[i])) {
    throw new Error(`${kernelName}: dy has shape [${dyShape.join(', ')}] but the convolution of an input ` +
      `[${inputShape.join(', ')}] with a filter [${filterShape.join(', ')}] gives [${expected.join(', ')}]`);
  }
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    outChannels: info.outChannels,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
    channelsFirst: info.dataFormat === 'channelsFirst',
  };
}
