import { FAILSAFE_SCHEMA, Type } from 'js-yaml';

/**
 * js-yaml resolving plain scalars exactly as the `yaml` package's YAML 1.2 core schema does
 * (its schema/core and schema/common tags, same tests, same order, same conversions): no
 * timestamps, merge keys, binary, sets or underscores in numbers, which js-yaml's own
 * default schema would add. js-yaml keeps one implicit type per tag, so each tag's formats
 * are tried here in the order `yaml` lists them.
 */
const NULL = /^(?:~|[Nn]ull|NULL)?$/;
const BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const INT_OCT = /^0o[0-7]+$/;
const INT = /^[-+]?[0-9]+$/;
const INT_HEX = /^0x[0-9a-fA-F]+$/;
const FLOAT_NAN = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const FLOAT_EXP = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;

const nullType = new Type('tag:yaml.org,2002:null', {
  kind: 'scalar',
  resolve: (data: string | null) => data === null || NULL.test(data),
  construct: () => null,
});

const boolType = new Type('tag:yaml.org,2002:bool', {
  kind: 'scalar',
  resolve: (data: string | null) => data !== null && BOOL.test(data),
  construct: (data: string) => data[0] === 't' || data[0] === 'T',
});

const intType = new Type('tag:yaml.org,2002:int', {
  kind: 'scalar',
  resolve: (data: string | null) => data !== null && (INT_OCT.test(data) || INT.test(data) || INT_HEX.test(data)),
  construct: (data: string) => {
    if (INT_OCT.test(data)) return parseInt(data.substring(2), 8);
    if (INT.test(data)) return parseInt(data, 10);
    return parseInt(data.substring(2), 16);
  },
});

const floatType = new Type('tag:yaml.org,2002:float', {
  kind: 'scalar',
  resolve: (data: string | null) => data !== null && (FLOAT_NAN.test(data) || FLOAT_EXP.test(data) || FLOAT.test(data)),
  construct: (data: string) => {
    if (FLOAT_NAN.test(data)) {
      if (data.slice(-3).toLowerCase() === 'nan') return NaN;
      return data[0] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
    }
    return parseFloat(data);
  },
});

export const CORE_SCHEMA_AS_YAML = FAILSAFE_SCHEMA.extend({ implicit: [nullType, boolType, intType, floatType] });
