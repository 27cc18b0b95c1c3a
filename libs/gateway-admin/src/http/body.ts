import express, { type RequestHandler } from 'express';
import { HttpProblem, jsonBody as depthLimitedJson } from '@cloud-stack/service-kit';

const LIMIT = '1mb';
export const YAML_TYPES = ['application/yaml', 'text/yaml', 'application/x-yaml'];

// The app installs no global body parsers (the proxy streams bodies), so the admin routes read their own.
// JSON nested past the shared depth limit is a 400, as on every service.
const json = depthLimitedJson({ limit: LIMIT, type: 'application/json', strict: false });
const text = express.text({ limit: LIMIT, type: YAML_TYPES });

/** A JSON body; anything else is 415. */
export const jsonBody: RequestHandler = (req, res, next) => {
  if (!req.is('application/json')) return next(new HttpProblem(415, 'send application/json'));
  json(req, res, next);
};

/** A JSON or YAML body (a YAML body stays a string). */
export const jsonOrYamlBody: RequestHandler = (req, res, next) => {
  if (req.is('application/json')) return json(req, res, next);
  if (req.is(YAML_TYPES)) return text(req, res, next);
  next(new HttpProblem(415, 'send application/json or application/yaml'));
};
