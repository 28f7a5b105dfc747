// Package das decodes Aurora PostgreSQL Database Activity Stream objects as Kinesis
// Data Firehose writes them to S3: the outer record framing (concatenated JSON,
// optionally GZIP), the KMS data keys (cached per run), the AWS Encryption SDK
// payload, its GZIP body and the lenient inner event JSON, into store/model rows.
// It also owns the matching encoder used by the product's own generator.
//
// It is the only package allowed to import the AWS Encryption SDK, the Material
// Providers Library and service/kms. It must not import DuckDB, the store package
// (only store/model), Charm or any tui package.
package das
