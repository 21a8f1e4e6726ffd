/** The initial schema. Child rows go with their domain (ON DELETE CASCADE). */
import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect.ts';

export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const autoId = dialect === 'postgres' ? 'serial' : 'integer';

  await db.schema
    .createTable('domains')
    .addColumn('name', 'varchar(128)', (c) => c.primaryKey())
    .addColumn('id', 'varchar(36)', (c) => c.notNull().unique())
    .addColumn('description', 'text')
    .addColumn('org', 'varchar(256)')
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('audit_enabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('account', 'varchar(512)')
    .addColumn('aws_account_name', 'varchar(2048)')
    .addColumn('ypm_id', 'integer')
    .addColumn('product_id', 'varchar(256)')
    .addColumn('application_id', 'varchar(512)')
    .addColumn('cert_dns_domain', 'varchar(256)')
    .addColumn('business_service', 'varchar(256)')
    .addColumn('member_expiry_days', 'integer')
    .addColumn('service_expiry_days', 'integer')
    .addColumn('token_expiry_mins', 'integer')
    .addColumn('service_cert_expiry_mins', 'integer')
    .addColumn('role_cert_expiry_mins', 'integer')
    .addColumn('sign_algorithm', 'varchar(16)')
    .addColumn('created', 'varchar(32)', (c) => c.notNull())
    .addColumn('modified', 'varchar(32)', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('roles')
    .addColumn('domain', 'varchar(128)', (c) => c.notNull().references('domains.name').onDelete('cascade'))
    .addColumn('name', 'varchar(512)', (c) => c.notNull())
    .addColumn('trust', 'varchar(128)')
    .addColumn('description', 'text')
    .addColumn('modified', 'varchar(32)', (c) => c.notNull())
    .addPrimaryKeyConstraint('roles_pk', ['domain', 'name'])
    .execute();

  await db.schema
    .createTable('role_members')
    .addColumn('domain', 'varchar(128)', (c) => c.notNull())
    .addColumn('role', 'varchar(512)', (c) => c.notNull())
    .addColumn('member_name', 'varchar(512)', (c) => c.notNull())
    .addColumn('expiration', 'varchar(32)')
    .addColumn('system_disabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('audit_ref', 'text')
    .addPrimaryKeyConstraint('role_members_pk', ['domain', 'role', 'member_name'])
    .addForeignKeyConstraint('role_members_role_fk', ['domain', 'role'], 'roles', ['domain', 'name'], (c) =>
      c.onDelete('cascade'),
    )
    .execute();

  await db.schema
    .createTable('policies')
    .addColumn('domain', 'varchar(128)', (c) => c.notNull().references('domains.name').onDelete('cascade'))
    .addColumn('name', 'varchar(512)', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('case_sensitive', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('modified', 'varchar(32)', (c) => c.notNull())
    .addPrimaryKeyConstraint('policies_pk', ['domain', 'name'])
    .execute();

  await db.schema
    .createTable('assertions')
    .addColumn('id', autoId, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('domain', 'varchar(128)', (c) => c.notNull())
    .addColumn('policy', 'varchar(512)', (c) => c.notNull())
    .addColumn('role', 'varchar(512)', (c) => c.notNull())
    .addColumn('resource', 'varchar(1024)', (c) => c.notNull())
    .addColumn('action', 'varchar(512)', (c) => c.notNull())
    .addColumn('effect', 'varchar(5)', (c) => c.notNull())
    .addColumn('case_sensitive', 'integer', (c) => c.notNull().defaultTo(0))
    .addForeignKeyConstraint('assertions_policy_fk', ['domain', 'policy'], 'policies', ['domain', 'name'], (c) =>
      c.onDelete('cascade'),
    )
    .execute();
  await db.schema.createIndex('assertions_policy_idx').on('assertions').columns(['domain', 'policy']).execute();

  await db.schema
    .createTable('services')
    .addColumn('domain', 'varchar(128)', (c) => c.notNull().references('domains.name').onDelete('cascade'))
    .addColumn('name', 'varchar(128)', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('provider_endpoint', 'varchar(1024)')
    .addColumn('modified', 'varchar(32)', (c) => c.notNull())
    .addPrimaryKeyConstraint('services_pk', ['domain', 'name'])
    .execute();

  await db.schema
    .createTable('public_keys')
    .addColumn('domain', 'varchar(128)', (c) => c.notNull())
    .addColumn('service', 'varchar(128)', (c) => c.notNull())
    .addColumn('key_id', 'varchar(128)', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('public_keys_pk', ['domain', 'service', 'key_id'])
    .addForeignKeyConstraint('public_keys_service_fk', ['domain', 'service'], 'services', ['domain', 'name'], (c) =>
      c.onDelete('cascade'),
    )
    .execute();

  await db.schema
    .createTable('domain_templates')
    .addColumn('domain', 'varchar(128)', (c) => c.notNull().references('domains.name').onDelete('cascade'))
    .addColumn('template', 'varchar(128)', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('domain_templates_pk', ['domain', 'template'])
    .execute();

  // The audit log outlives the domains it speaks of: no foreign key.
  await db.schema
    .createTable('audit_log')
    .addColumn('id', autoId, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('domain', 'varchar(128)', (c) => c.notNull())
    .addColumn('created', 'varchar(32)', (c) => c.notNull())
    .addColumn('principal', 'varchar(512)', (c) => c.notNull())
    .addColumn('api', 'varchar(64)', (c) => c.notNull())
    .addColumn('details', 'text', (c) => c.notNull())
    .addColumn('audit_ref', 'text')
    .execute();
  await db.schema.createIndex('audit_log_domain_idx').on('audit_log').columns(['domain', 'id']).execute();

  await db.schema
    .createTable('users')
    .addColumn('name', 'varchar(256)', (c) => c.primaryKey())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('created', 'varchar(32)', (c) => c.notNull())
    .addColumn('modified', 'varchar(32)', (c) => c.notNull())
    .execute();
}
