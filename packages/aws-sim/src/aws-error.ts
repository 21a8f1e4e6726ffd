/**
 * Errors in AWS's vocabulary. The query endpoint renders them as the XML error
 * body the SDK parses, so `err.name` on the client is the code given here.
 */
export class AwsError extends Error {
  readonly code: string;
  readonly status: number;
  readonly type: 'Sender' | 'Receiver';

  constructor(code: string, message: string, status = 400, type: 'Sender' | 'Receiver' = 'Sender') {
    super(message);
    this.name = 'AwsError';
    this.code = code;
    this.status = status;
    this.type = type;
  }
}

export const accessDenied = (message: string): AwsError => new AwsError('AccessDenied', message, 403);
export const validationError = (message: string): AwsError => new AwsError('ValidationError', message, 400);
export const missingParameter = (name: string): AwsError =>
  new AwsError('MissingParameter', `The request must contain the parameter ${name}`, 400);
export const malformedPolicy = (message: string): AwsError => new AwsError('MalformedPolicyDocument', message, 400);
export const noSuchEntity = (message: string): AwsError => new AwsError('NoSuchEntity', message, 404);
export const invalidAction = (message: string): AwsError => new AwsError('InvalidAction', message, 400);

export function isAwsError(e: unknown): e is AwsError {
  return e instanceof AwsError;
}
