declare module '@lhncbc/ucum-lhc' {
  export interface UcumLhcUtilsInstance {
    convertUnitTo(
      fromUnitCode: string,
      fromVal: number,
      toUnitCode: string,
      options?: { molecularWeight?: number },
    ): { status: string; toVal: number | null; msg: string[] };
    validateUnitString(unit: string): { status: string; msg: string[] };
  }
  export const UcumLhcUtils: { getInstance(): UcumLhcUtilsInstance };
}
