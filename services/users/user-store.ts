// The users table through a Sequelize model. Emails are unique and looked up by their key:
// lower-cased and NFC-normalised, so Alice@Example.com and alice@example.com are one account.
import { DataTypes, UniqueConstraintError, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Model, type ModelStatic, type Sequelize } from 'sequelize';
import type { Role } from '../kit/auth.js';
import { conflict } from '../kit/errors.js';

export interface UserInstance extends Model<InferAttributes<UserInstance>, InferCreationAttributes<UserInstance>> {
  id: CreationOptional<string>;
  email: string;
  emailKey: string;
  name: string;
  role: Role;
  passwordHash: string;
  createdAt: CreationOptional<Date>;
  updatedAt: CreationOptional<Date>;
}

/** What the API shows of a user (never the hash). */
export interface PublicUser {
  id: string;
  email: string;
  name: string;
  role: Role;
}

export const emailKey = (email: string): string => email.normalize('NFC').toLowerCase();

export class UserStore {
  private readonly User: ModelStatic<UserInstance>;

  constructor(sequelize: Sequelize) {
    this.User = sequelize.define<UserInstance>(
      'users',
      {
        id: { type: DataTypes.BIGINT.UNSIGNED, autoIncrement: true, primaryKey: true },
        email: { type: DataTypes.STRING(254), allowNull: false },
        emailKey: { type: DataTypes.STRING(254), allowNull: false, unique: true },
        name: { type: DataTypes.STRING(100), allowNull: false },
        role: { type: DataTypes.ENUM('customer', 'admin'), allowNull: false, defaultValue: 'customer' },
        passwordHash: { type: DataTypes.STRING(255), allowNull: false },
        createdAt: { type: DataTypes.DATE(3), allowNull: false },
        updatedAt: { type: DataTypes.DATE(3), allowNull: false },
      },
      { tableName: 'users' },
    );
  }

  /** 409 EMAIL_TAKEN when the address (in any case) is registered already. */
  async create(input: { email: string; name: string; role: Role; passwordHash: string }): Promise<PublicUser> {
    try {
      const user = await this.User.create({ ...input, emailKey: emailKey(input.email) });
      return toPublic(user);
    } catch (err) {
      if (err instanceof UniqueConstraintError) throw conflict('EMAIL_TAKEN', 'an account with this email already exists: log in instead');
      throw err;
    }
  }

  async byEmail(email: string): Promise<UserInstance | null> {
    return this.User.findOne({ where: { emailKey: emailKey(email) } });
  }

  async byId(id: string): Promise<PublicUser | undefined> {
    const user = await this.recordById(id);
    return user ? toPublic(user) : undefined;
  }

  /** The whole row (with the hash), for checking the current password. */
  async recordById(id: string): Promise<UserInstance | null> {
    if (!/^\d{1,20}$/.test(id)) return null;
    return this.User.findByPk(id);
  }

  async setPasswordHash(id: string, passwordHash: string): Promise<void> {
    await this.User.update({ passwordHash }, { where: { id } });
  }
}

export function toPublic(user: UserInstance): PublicUser {
  return { id: String(user.id), email: user.email, name: user.name, role: user.role };
}
