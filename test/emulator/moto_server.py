#!/usr/bin/env python3
"""moto's server for the emulator suite, with named fixes for moto gaps that block paths real AWS supports.

    python3 test/emulator/moto_server.py [--port 0] [--without NAME[,NAME]] [--exit-on-stdin-eof] [--list]

Imports moto 5.2.1 (`pip install 'moto[server]==5.2.1'`; nothing of moto is copied here beyond
what a monkeypatch needs), applies the fixes below, and serves moto's app on 127.0.0.1. Port 0
(the default) takes a free port; the first line on stdout says which:
`moto_server listening on http://127.0.0.1:<port> (fixes: ...)`.

Each fix restores one AWS behaviour, says which, and can be left out to show the path fails without it:
  --without NAME,...  or  SALEDAY_MOTO_WITHOUT=NAME,...   at start ("all": plain moto)
  header X-Saleday-Moto-Without: NAME,...                  for one request (one server shows every gap)
--list prints the fixes; --exit-on-stdin-eof ends the server when its parent closes stdin (the
test process is gone, even after a SIGKILL).

The fixes that read CloudFormation resource schemas (which properties are create-only) use the
ones cfn-lint ships (cfn-lint 1.51.0 is installed beside moto); without cfn-lint those details are
left out, as moto leaves them out.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import threading
import uuid
from dataclasses import dataclass
from typing import Any, Callable

MOTO_VERSION = "5.2.1"


@dataclass
class Fix:
    name: str
    restores: str
    apply: Callable[[], None]


FIXES: dict[str, Fix] = {}
_request = threading.local()


def fix(name: str, restores: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    def register(apply: Callable[[], None]) -> Callable[[], None]:
        FIXES[name] = Fix(name, restores, apply)
        return apply

    return register


def active(name: str) -> bool:
    """False while serving a request that asked to go without this fix (X-Saleday-Moto-Without)."""
    return name not in getattr(_request, "without", ())


def _model(fix_name: str, resource_type: str, service: str, *, create: Callable[..., Any], ref: Callable[[Any], str],
           attributes: dict[str, Callable[[Any], Any]], update: Callable[..., Any] | None = None,
           delete: Callable[[Any, str, str], None] | None = None) -> None:
    """A CloudFormation model for a type moto's CloudFormation skips, backed by moto's own service backend."""
    from moto.cloudformation import parsing
    from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
    from moto.core.common_models import CloudFormationModel

    def create_from_cloudformation_json(cls: Any, resource_name: str, cloudformation_json: Any, account_id: str,
                                        region_name: str, **kwargs: Any) -> Any:
        return cls(create(resource_name, cloudformation_json.get("Properties", {}), account_id, region_name))

    def update_from_cloudformation_json(cls: Any, original_resource: Any, new_resource_name: str,
                                        cloudformation_json: Any, account_id: str, region_name: str) -> Any:
        if update is not None:
            update(original_resource.inner, cloudformation_json.get("Properties", {}), account_id, region_name)
        return original_resource

    def get_cfn_attribute(self: Any, attribute_name: str) -> Any:
        if attribute_name not in attributes:
            raise UnformattedGetAttTemplateException()
        return attributes[attribute_name](self.inner)

    model = type(f"Saleday{resource_type.replace('::', '')}", (CloudFormationModel,), {
        # moto files its models by service, read from the module name.
        "__module__": f"moto.{service}.saleday_fixes",
        "__init__": lambda self, inner: setattr(self, "inner", inner),
        "physical_resource_id": property(lambda self: ref(self.inner)),
        "cloudformation_name_type": staticmethod(lambda: ""),
        "cloudformation_type": staticmethod(lambda: resource_type),
        "has_cfn_attr": classmethod(lambda cls, attr: attr in attributes),
        "get_cfn_attribute": get_cfn_attribute,
        "create_from_cloudformation_json": classmethod(create_from_cloudformation_json),
        "update_from_cloudformation_json": classmethod(update_from_cloudformation_json),
        "delete_from_cloudformation_json": classmethod(lambda cls, *args: None),
        "delete": lambda self, account_id, region_name: delete and delete(self.inner, account_id, region_name),
        "is_created": lambda self: True,
    })
    # moto lists its models once (lru_cache over CloudFormationModel.__subclasses__()).
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()
    _MODEL_FIXES[resource_type] = (fix_name, model)


_MODEL_FIXES: dict[str, tuple[str, Any]] = {}


def _hide_inactive_models() -> None:
    """Without its fix, a modelled type is skipped again, as moto skips it."""
    from moto.cloudformation import parsing

    original = parsing.resource_class_from_type

    def resource_class_from_type(resource_type: str) -> Any:
        fix_name, _ = _MODEL_FIXES.get(resource_type, (None, None))
        if fix_name is not None and not active(fix_name):
            parsing.logger.warning("No Moto CloudFormation support for %s", resource_type)
            return None
        return original(resource_type)

    parsing.resource_class_from_type = resource_class_from_type


# CloudFormation's resource schemas (as cfn-lint ships them) say which properties force a
# replacement when they change (createOnlyProperties): what AWS reports as RequiresRecreation.
_CREATE_ONLY: dict[str, tuple[set[str], set[str]] | None] = {}


def create_only(resource_type: str) -> tuple[set[str], set[str]] | None:
    """(properties whose change replaces the resource, properties with a create-only part), None if unknown."""
    if resource_type not in _CREATE_ONLY:
        try:
            from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

            schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", resource_type).schema
            paths = [p.split("/")[2:] for p in schema.get("createOnlyProperties", []) if p.startswith("/properties/")]
            _CREATE_ONLY[resource_type] = ({p[0] for p in paths if len(p) == 1}, {p[0] for p in paths if len(p) > 1})
        except Exception:
            _CREATE_ONLY[resource_type] = None
    return _CREATE_ONLY[resource_type]


def referenced_names(value: Any) -> set[str]:
    """Parameters and resources a template value refers to: Ref, and ${Name} inside Fn::Sub."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::Sub":
                text = inner if isinstance(inner, str) else inner[0]
                found.update(m.split(".")[0] for m in re.findall(r"\$\{([^!}][^}]*)\}", text))
                if not isinstance(inner, str):
                    found.update(referenced_names(inner[1]))
            else:
                found.update(referenced_names(inner))
    elif isinstance(value, list):
        for inner in value:
            found.update(referenced_names(inner))
    return found


# ---------------------------------------------------------------------------------------------
# Change sets and stacks
# ---------------------------------------------------------------------------------------------

@fix("create-change-set-reuses-review-stack",
     "A CREATE change set on a stack in REVIEW_IN_PROGRESS (made by an earlier CREATE change set that was "
     "deleted or never executed) belongs to that stack and its StackId; no second stack of that name appears. "
     "The AWS CLI's `cloudformation deploy` (deployer.py has_stack) and `cdk deploy` (aws-cdk#7731) rely on it.")
def _create_change_set_reuses_review_stack() -> None:
    # moto makes a new Stack for every CREATE change set; DescribeStacks by name keeps answering
    # with the first one, still REVIEW_IN_PROGRESS after the second was executed.
    from moto.cloudformation import models

    original = models.CloudFormationBackend.create_change_set

    def create_change_set(self: Any, stack_name: str, change_set_name: str, template: str, parameters: dict[str, str],
                          description: str, change_set_type: str, notification_arns: list[str] | None = None,
                          tags: dict[str, str] | None = None, role_arn: str | None = None) -> tuple[str, str]:
        review = next((s for s in self.stacks.values() if s.name == stack_name and s.status == "REVIEW_IN_PROGRESS"), None)
        if change_set_type != "CREATE" or review is None or not active("create-change-set-reuses-review-stack"):
            return original(self, stack_name, change_set_name, template, parameters, description, change_set_type,
                            notification_arns=notification_arns, tags=tags, role_arn=role_arn)
        models.validate_create_change_set(change_set_name)
        change_set_id = models.generate_changeset_id(change_set_name, self.region_name, self.account_id)
        change_set = models.ChangeSet(change_set_type="CREATE", change_set_id=change_set_id, change_set_name=change_set_name,
                                      stack=review, template=template, parameters=parameters, description=description,
                                      notification_arns=notification_arns, tags=tags, role_arn=role_arn)
        change_set.status, change_set.execution_status = "CREATE_COMPLETE", "AVAILABLE"
        self.change_sets[change_set_id] = change_set
        return change_set_id, review.stack_id

    models.CloudFormationBackend.create_change_set = create_change_set


@fix("list-change-sets-per-stack",
     "ListChangeSets lists the change sets of the stack it names, not those of every stack "
     "(API reference: ListChangeSets, StackName required).")
def _list_change_sets_per_stack() -> None:
    # moto's list_change_sets ignores StackName: a tool that cleans up a stack's old change sets
    # deletes every other stack's change sets of the same kind too.
    from moto.cloudformation.responses import CloudFormationResponse
    from moto.core.responses import ActionResult

    original = CloudFormationResponse.list_change_sets

    def list_change_sets(self: Any) -> Any:
        if not active("list-change-sets-per-stack"):
            return original(self)
        stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
        return ActionResult({"Summaries": [cs for cs in self.cloudformation_backend.list_change_sets() if cs.stack_id == stack.stack_id]})

    CloudFormationResponse.list_change_sets = list_change_sets  # type: ignore[method-assign]


@fix("change-set-without-changes-fails",
     "CreateChangeSet with the stack's own template and parameters succeeds, and the change set reports Status "
     "FAILED, StatusReason \"The submitted information didn't contain changes...\" (what the AWS CLI's "
     "`cloudformation deploy` waits for and reports as no changes: deployer.py wait_for_changeset).")
def _change_set_without_changes_fails() -> None:
    # moto's CreateChangeSet runs UpdateStack's check first and answers ValidationError "No updates
    # are to be performed." when every parameter is a plain String.
    from moto.cloudformation.responses import CloudFormationResponse

    original = CloudFormationResponse.create_change_set

    def create_change_set(self: Any) -> Any:
        if active("change-set-without-changes-fails"):
            self._validate_different_update = lambda *args, **kwargs: None
        return original(self)

    CloudFormationResponse.create_change_set = create_change_set  # type: ignore[method-assign]


@fix("change-set-details",
     "DescribeChangeSet says what changes in each modified resource: Scope [Properties], one Detail per changed "
     "property (Target Name; RequiresRecreation Always when the resource schema makes it create-only) and "
     "Replacement True/False; a change set that only changes parameter values lists the resources using them "
     "(Ref or Fn::Sub) with ChangeSource ParameterReference and the parameter as CausingEntity "
     "(API reference: ResourceChange, ResourceChangeDetail).")
def _change_set_details() -> None:
    # moto's ChangeSet.diff gives Action, LogicalResourceId and ResourceType only, from the templates
    # alone: a change set that changes a parameter shows no resource changes.
    from moto.cloudformation import models

    original = models.ChangeSet.diff

    def diff(self: Any) -> list[Any]:
        if not active("change-set-details"):
            return original(self)
        resource_map = self.stack.resource_map
        old, new = resource_map._resource_json_map, self.template_dict.get("Resources", {})
        previous = resource_map.input_parameters or {}
        changed_parameters = {k for k in set(previous) | set(self.parameters) if previous.get(k) != self.parameters.get(k)}
        changes = [models.Change("Add", name, r["Type"]) for name, r in new.items() if name not in old]
        for name, resource in new.items():
            if name not in old:
                continue
            before, after = old[name].get("Properties", {}), resource.get("Properties", {})
            known = create_only(resource["Type"])
            details: list[dict[str, Any]] = []
            for prop in sorted(set(before) | set(after)):
                target: dict[str, Any] = {"Attribute": "Properties", "Name": prop}
                if known is not None:
                    target["RequiresRecreation"] = "Always" if prop in known[0] else "Conditionally" if prop in known[1] else "Never"
                if before.get(prop) != after.get(prop):
                    details.append({"Target": target, "Evaluation": "Static", "ChangeSource": "DirectModification"})
                for parameter in sorted(referenced_names(after.get(prop)) & changed_parameters):
                    details.append({"Target": target, "Evaluation": "Static", "ChangeSource": "ParameterReference",
                                    "CausingEntity": parameter})
            if details:
                change = models.Change("Modify", name, resource["Type"])
                change.scope, change.details = ["Properties"], details
                if known is not None:
                    recreation = {d["Target"]["RequiresRecreation"] for d in details}
                    change.replacement = "True" if "Always" in recreation else "Conditional" if "Conditionally" in recreation else "False"
                changes.append(change)
        changes += [models.Change("Remove", name, r["Type"]) for name, r in old.items() if name not in new]
        return changes

    models.ChangeSet.diff = diff


@fix("execute-change-set-sets-outputs",
     "A stack created or updated by executing a change set has the Outputs (and Exports) of the change set's "
     "template, as after CreateStack/UpdateStack (DescribeStacks Outputs).")
def _execute_change_set_sets_outputs() -> None:
    # moto's execute_change_set applies the template to the resources and stores its text, but keeps
    # the parsed template and OutputMap of the stack as it was made (empty for a CREATE change set).
    from moto.cloudformation import models

    original = models.CloudFormationBackend.execute_change_set

    def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        change_set = self.describe_change_set(change_set_name)
        original(self, change_set_name, stack_name)
        if not active("execute-change-set-sets-outputs"):
            return
        stack = self.stacks[change_set.stack_id]
        for export in stack.exports:
            self.exports.pop(export.name, None)
        stack._parse_template()
        stack.description = stack.template_dict.get("Description")
        stack.output_map = stack._create_output_map()
        self._validate_export_uniqueness(stack)
        for export in stack.exports:
            self.exports[export.name] = export

    models.CloudFormationBackend.execute_change_set = execute_change_set


@fix("execute-change-set-records-parameters",
     "After a change set is executed the stack has the change set's parameters and tags, so the next change set "
     "with the same template and parameters reports no changes (DescribeChangeSet FAILED, \"didn't contain changes\").")
def _execute_change_set_records_parameters() -> None:
    # moto's execute_change_set applies the parameters to the resources but keeps Stack.parameters,
    # which its "no changes" check compares, at the values of the stack's first change set.
    from moto.cloudformation import models

    original = models.CloudFormationBackend.execute_change_set

    def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        change_set = self.describe_change_set(change_set_name)
        original(self, change_set_name, stack_name)
        if active("execute-change-set-records-parameters"):
            stack = self.stacks[change_set.stack_id]
            stack.parameters = dict(change_set.parameters)
            if change_set.tags is not None:
                stack.tags = dict(change_set.tags)

    models.CloudFormationBackend.execute_change_set = execute_change_set


@fix("stack-last-updated-time",
     "DescribeStacks gives LastUpdatedTime, the time of the stack's last update (UpdateStack or an executed "
     "UPDATE change set); a stack never updated has none (API reference: Stack).")
def _stack_last_updated_time() -> None:
    # moto never sets it: a stack looks unchanged since its creation whatever was done to it.
    from moto.cloudformation import models
    from moto.core.utils import utcnow

    update, execute = models.Stack.update, models.CloudFormationBackend.execute_change_set

    def stack_update(self: Any, *args: Any, **kwargs: Any) -> None:
        update(self, *args, **kwargs)
        if active("stack-last-updated-time"):
            self.last_updated_time = utcnow()

    def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        change_set = self.describe_change_set(change_set_name)
        execute(self, change_set_name, stack_name)
        if change_set.change_set_type == "UPDATE" and active("stack-last-updated-time"):
            self.stacks[change_set.stack_id].last_updated_time = utcnow()

    models.Stack.update = stack_update
    models.CloudFormationBackend.execute_change_set = execute_change_set


@fix("describe-stacks-list-parameters",
     "DescribeStacks returns a List<...> or CommaDelimitedList parameter as the comma-separated text it was "
     "given (\"subnet-a,subnet-b\").")
def _describe_stacks_list_parameters() -> None:
    # moto's Stack.parameter_list serializes the parsed Python list: "['subnet-a', 'subnet-b']".
    from moto.cloudformation.models import Stack

    original = Stack.parameter_list.fget

    def parameter_list(self: Any) -> list[dict[str, Any]]:
        listed = original(self)
        if active("describe-stacks-list-parameters"):
            for p in listed:
                if isinstance(p.get("ParameterValue"), list):
                    p["ParameterValue"] = ",".join(str(v) for v in p["ParameterValue"])
        return listed

    Stack.parameter_list = property(parameter_list)  # type: ignore[method-assign, assignment]


@fix("update-in-place-keeps-physical-name",
     "A resource updated without replacement keeps its physical name (an Auto Scaling group whose MaxSize "
     "changes is the same group afterwards); only a change to a create-only property (resource schema) "
     "replaces it under a new generated name.")
def _update_in_place_keeps_physical_name() -> None:
    # moto updates many resources (AutoScalingGroup among them) by deleting them and creating them
    # under a newly generated name: outputs that Ref them change, and so does every stack taking them.
    from moto.cloudformation import parsing

    keep = threading.local()
    generate, update_map, update_resource = parsing.generate_resource_name, parsing.ResourceMap.update, parsing.parse_and_update_resource

    def generate_resource_name(resource_type: str, stack_name: str, logical_id: str) -> str:
        name = getattr(keep, "name", None)
        return name if name is not None else generate(resource_type, stack_name, logical_id)

    def update(self: Any, template: dict[str, Any], parameters: dict[str, Any] | None = None) -> None:
        self._saleday_previous = dict(self._resource_json_map)
        update_map(self, template, parameters)

    def parse_and_update_resource(logical_id: str, resource_json: dict[str, Any], resources_map: Any,
                                  account_id: str, region_name: str) -> Any:
        original = resources_map._parsed_resources.get(logical_id)
        before = getattr(resources_map, "_saleday_previous", {}).get(logical_id, {}).get("Properties", {})
        after = resource_json.get("Properties", {})
        name_property = parsing.resource_name_property_from_type(resource_json["Type"])
        known = create_only(resource_json["Type"])
        name = getattr(original, "name", None)
        in_place = (active("update-in-place-keeps-physical-name") and isinstance(name, str)
                    and name == getattr(original, "physical_resource_id", None) and bool(name_property)
                    and name_property not in after and known is not None
                    and not any(before.get(p) != after.get(p) for p in known[0] | known[1]))
        keep.name = name if in_place else None
        try:
            return update_resource(logical_id, resource_json, resources_map, account_id, region_name)
        finally:
            keep.name = None

    parsing.generate_resource_name = generate_resource_name
    parsing.ResourceMap.update = update
    parsing.parse_and_update_resource = parse_and_update_resource


# ---------------------------------------------------------------------------------------------
# Resource types
# ---------------------------------------------------------------------------------------------

@fix("kms-key-cloudformation-tags",
     "An AWS::KMS::Key with Tags (CloudFormation's Key/Value pairs) is created and tagged; KMS lists them as "
     "TagKey/TagValue (AWS::KMS::Key reference, Tags).")
def _kms_key_cloudformation_tags() -> None:
    # moto hands the template's Key/Value tags to KMS's tagger, which reads TagKey/TagValue:
    # KeyError, HTTP 500 in the middle of the execution.
    from moto.kms.models import Key

    original = Key.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create_from_cloudformation_json(cls: Any, resource_name: str, cloudformation_json: Any, account_id: str,
                                        region_name: str, **kwargs: Any) -> Any:
        tags = cloudformation_json.get("Properties", {}).get("Tags")
        if tags and active("kms-key-cloudformation-tags"):
            properties = {**cloudformation_json["Properties"], "Tags": [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in tags]}
            cloudformation_json = {**cloudformation_json, "Properties": properties}
        return original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)

    Key.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[method-assign]


@fix("rds-parameter-group-ref",
     "Ref of an AWS::RDS::DBParameterGroup is its name, so a DBInstance can name it in DBParameterGroupName "
     "(AWS::RDS::DBParameterGroup reference, Return values).")
def _rds_parameter_group_ref() -> None:
    # moto's DBParameterGroup has no physical_resource_id: Ref hands the model object itself to the
    # DBInstance, which calls .startswith on it: AttributeError, HTTP 500.
    from moto.rds.models import DBParameterGroup

    def physical_resource_id(self: Any) -> str:
        if not active("rds-parameter-group-ref"):
            raise AttributeError("physical_resource_id")
        return self.name

    DBParameterGroup.physical_resource_id = property(physical_resource_id)  # type: ignore[attr-defined]


@fix("rds-managed-master-user-secret",
     "An AWS::RDS::DBInstance with ManageMasterUserPassword: true gets a master user secret that RDS keeps in "
     "Secrets Manager; Fn::GetAtt MasterUserSecret.SecretArn returns its ARN (AWS::RDS::DBInstance, Return values).")
def _rds_managed_master_user_secret() -> None:
    # moto supports ManageMasterUserPassword through the RDS API, but its CloudFormation model ignores
    # the property and knows only Endpoint.*: reading the outputs raises, DescribeStacks answers 500.
    from moto.rds.models import DBInstance, MasterUserSecret

    create = DBInstance.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]
    get_attribute, has_attribute = DBInstance.get_cfn_attribute, DBInstance.has_cfn_attr.__func__  # type: ignore[attr-defined]

    def create_from_cloudformation_json(cls: Any, resource_name: str, cloudformation_json: Any, account_id: str,
                                        region_name: str, **kwargs: Any) -> Any:
        db = create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        properties = cloudformation_json.get("Properties", {})
        if (active("rds-managed-master-user-secret") and str(properties.get("ManageMasterUserPassword")).lower() == "true"
                and not getattr(db, "master_user_secret", None)):
            db.master_user_secret = MasterUserSecret(db, (properties.get("MasterUserSecret") or {}).get("KmsKeyId"))
            db.manage_master_user_password = True
        return db

    def get_cfn_attribute(self: Any, attribute_name: str) -> Any:
        if attribute_name == "MasterUserSecret.SecretArn" and getattr(self, "master_user_secret", None):
            return self.master_user_secret.secret_arn
        return get_attribute(self, attribute_name)

    DBInstance.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[method-assign]
    DBInstance.get_cfn_attribute = get_cfn_attribute  # type: ignore[method-assign]
    DBInstance.has_cfn_attr = classmethod(lambda cls, a: a == "MasterUserSecret.SecretArn" or has_attribute(cls, a))  # type: ignore[method-assign]


@fix("secretsmanager-secret-resource",
     "An AWS::SecretsManager::Secret in a template is created in Secrets Manager (SecretString, or "
     "GenerateSecretString with SecretStringTemplate/GenerateStringKey); Ref returns its ARN "
     "(AWS::SecretsManager::Secret reference).")
def _secretsmanager_secret_resource() -> None:
    # moto has no CloudFormation model for this type: it skips the resource with a warning, so
    # outputs that Ref it are missing and stacks taking them as parameters cannot deploy.
    from moto.secretsmanager.models import secretsmanager_backends

    def create(name: str, p: dict[str, Any], account_id: str, region_name: str) -> dict[str, Any]:
        backend = secretsmanager_backends[account_id][region_name]
        value, generate = p.get("SecretString"), p.get("GenerateSecretString")
        if generate is not None:
            flags = {k: bool(generate.get(v, False)) for k, v in (
                ("exclude_numbers", "ExcludeNumbers"), ("exclude_punctuation", "ExcludePunctuation"),
                ("exclude_uppercase", "ExcludeUppercase"), ("exclude_lowercase", "ExcludeLowercase"),
                ("include_space", "IncludeSpace"))}
            password = json.loads(backend.get_random_password(
                password_length=int(generate.get("PasswordLength", 32)), exclude_characters=generate.get("ExcludeCharacters", ""),
                require_each_included_type=bool(generate.get("RequireEachIncludedType", True)), **flags))["RandomPassword"]
            value = password
            if generate.get("SecretStringTemplate"):
                value = json.dumps({**json.loads(generate["SecretStringTemplate"]), generate["GenerateStringKey"]: password})
        return json.loads(backend.create_secret(
            name=p.get("Name", name), secret_string=value, secret_binary=None, description=p.get("Description"),
            tags=p.get("Tags"), kms_key_id=p.get("KmsKeyId"), client_request_token=None, replica_regions=[], force_overwrite=False))

    _model("secretsmanager-secret-resource", "AWS::SecretsManager::Secret", "secretsmanager", create=create,
           ref=lambda s: s["ARN"], attributes={"Id": lambda s: s["ARN"]},
           delete=lambda s, account_id, region: secretsmanager_backends[account_id][region].delete_secret(s["ARN"], None, True))


@fix("secretsmanager-dynamic-references",
     "A {{resolve:secretsmanager:<secret-id or ARN>:SecretString:<json-key>:<version-stage>:<version-id>}} dynamic "
     "reference in a resource property (also as the result of Fn::Sub) is replaced by the secret's value before the "
     "resource is made, so the value never appears in the template (Using dynamic references, Secrets Manager). moto "
     "passed the reference text through: a listener rule's http-header value then exceeds 128 characters.")
def _secretsmanager_dynamic_references() -> None:
    from moto.cloudformation import parsing
    from moto.secretsmanager.models import secretsmanager_backends

    original = parsing.clean_json
    pattern = re.compile(r"\{\{resolve:secretsmanager:([^}]+)\}\}")

    def resolve(reference: str, account_id: str, region_name: str) -> str:
        parts = reference.split(":")
        # An ARN holds colons itself: arn:aws:secretsmanager:<region>:<account>:secret:<name>.
        split_at = 7 if parts[0] == "arn" else 1
        secret_id, rest = ":".join(parts[:split_at]), parts[split_at:] + [""] * 4
        _, json_key, version_stage, version_id = rest[:4]
        value = secretsmanager_backends[account_id][region_name].get_secret_value(
            secret_id, version_id or None, version_stage or (None if version_id else "AWSCURRENT"))["SecretString"]
        return str(json.loads(value)[json_key]) if json_key else value

    def clean_json(resource_json: Any, resources_map: Any) -> Any:
        result = original(resource_json, resources_map)
        if isinstance(result, str) and "{{resolve:secretsmanager:" in result and active("secretsmanager-dynamic-references"):
            return pattern.sub(lambda m: resolve(m.group(1), resources_map._account_id, resources_map._region_name), result)
        return result

    parsing.clean_json = clean_json


@fix("no-value-in-lists",
     "Ref AWS::NoValue (as an Fn::If branch) inside a list removes that element, as it removes a property "
     "(Pseudo parameters reference, AWS::NoValue). moto left a null in the list: a listener rule whose "
     "http-header Values hold an optional second value failed with \"object of type 'NoneType' has no len()\".")
def _no_value_in_lists() -> None:
    from moto.cloudformation import parsing

    original = parsing.clean_json

    def clean_json(resource_json: Any, resources_map: Any) -> Any:
        result = original(resource_json, resources_map)
        if isinstance(resource_json, list) and isinstance(result, list) and active("no-value-in-lists"):
            return [v for v in result if v is not None]
        return result

    parsing.clean_json = clean_json


@fix("elbv2-cloudformation-attributes",
     "Fn::GetAtt on ELBv2 resources returns what AWS documents: LoadBalancer LoadBalancerFullName (app/<name>/<id>), "
     "CanonicalHostedZoneID, SecurityGroups; TargetGroup TargetGroupFullName (targetgroup/<name>/<id>), "
     "TargetGroupName, TargetGroupArn, LoadBalancerArns (AWS::ElasticLoadBalancingV2::*, Return values).")
def _elbv2_cloudformation_attributes() -> None:
    # moto raises NotImplementedError for the LoadBalancer ones (the output's value becomes the text
    # "{'Fn::GetAtt': [...]}"), and its target group has no get_cfn_attribute at all (the
    # AttributeError drops every output of the stack from DescribeStacks).
    from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
    from moto.elbv2.models import FakeLoadBalancer, FakeTargetGroup

    lb_attribute = FakeLoadBalancer.get_cfn_attribute
    lb_values: dict[str, Callable[[Any], Any]] = {
        "LoadBalancerFullName": lambda lb: lb.arn.split(":loadbalancer/", 1)[1],
        "CanonicalHostedZoneID": lambda lb: lb.canonical_hosted_zone_id,
        "SecurityGroups": lambda lb: list(lb.security_groups),
    }
    tg_values: dict[str, Callable[[Any], Any]] = {
        "TargetGroupFullName": lambda tg: tg.arn.split(":", 5)[5],
        "TargetGroupName": lambda tg: tg.name,
        "TargetGroupArn": lambda tg: tg.arn,
        "LoadBalancerArns": lambda tg: list(tg.load_balancer_arns),
    }

    def load_balancer_attribute(self: Any, attribute_name: str) -> Any:
        if attribute_name in lb_values and active("elbv2-cloudformation-attributes"):
            return lb_values[attribute_name](self)
        return lb_attribute(self, attribute_name)

    def target_group_attribute(self: Any, attribute_name: str) -> Any:
        if not active("elbv2-cloudformation-attributes"):
            raise AttributeError("get_cfn_attribute")
        if attribute_name not in tg_values:
            raise UnformattedGetAttTemplateException()
        return tg_values[attribute_name](self)

    FakeLoadBalancer.get_cfn_attribute = load_balancer_attribute  # type: ignore[method-assign]
    FakeTargetGroup.get_cfn_attribute = target_group_attribute  # type: ignore[attr-defined]
    FakeTargetGroup.has_cfn_attr = classmethod(lambda cls, attr: attr in tg_values)  # type: ignore[attr-defined]


@fix("cloudfront-distribution-resource",
     "An AWS::CloudFront::Distribution (and the AWS::CloudFront::OriginAccessControl it names) in a template is "
     "created in CloudFront: Ref and GetAtt Id give the distribution id, GetAtt DomainName its *.cloudfront.net "
     "name, and CreateInvalidation on it works (AWS::CloudFront::Distribution reference).")
def _cloudfront_distribution_resource() -> None:
    # moto models distributions in its CloudFront API but not in CloudFormation: the resource is
    # skipped, and an output with GetAtt Distribution.DomainName makes DescribeStacks fail.
    from moto.cloudfront.models import cloudfront_backends

    def backend(account_id: str) -> Any:
        return cloudfront_backends[account_id]["aws"]

    def behaviour(b: dict[str, Any]) -> dict[str, Any]:
        shaped = {k: v for k, v in b.items() if k != "CachedMethods"}
        shaped["AllowedMethods"] = {"Items": b.get("AllowedMethods", ["GET", "HEAD"]),
                                    "CachedMethods": {"Items": b.get("CachedMethods", ["GET", "HEAD"])}}
        return shaped

    def origin(o: dict[str, Any]) -> dict[str, Any]:
        if "CustomOriginConfig" not in o:
            return dict(o)
        custom = {k: v for k, v in o["CustomOriginConfig"].items() if k != "OriginSSLProtocols"}
        custom["OriginSslProtocols"] = {"Items": o["CustomOriginConfig"].get("OriginSSLProtocols", [])}
        return {**o, "CustomOriginConfig": custom}

    def api_config(config: dict[str, Any], caller_reference: str) -> dict[str, Any]:
        """The template's DistributionConfig in the API's shape (lists under Items, a few renamed keys)."""
        c = {k: v for k, v in config.items() if k not in ("IPV6Enabled", "Origins", "CacheBehaviors", "Aliases", "CustomErrorResponses")}
        c.update(CallerReference=caller_reference, IsIPV6Enabled=config.get("IPV6Enabled", True),
                 Origins={"Items": [origin(o) for o in config.get("Origins", [])]},
                 DefaultCacheBehavior=behaviour(config.get("DefaultCacheBehavior", {})))
        if config.get("CacheBehaviors"):
            c["CacheBehaviors"] = {"Quantity": len(config["CacheBehaviors"]), "Items": [behaviour(b) for b in config["CacheBehaviors"]]}
        if config.get("Aliases"):
            c["Aliases"] = {"Items": list(config["Aliases"])}
        if config.get("CustomErrorResponses"):
            c["CustomErrorResponses"] = {"Quantity": len(config["CustomErrorResponses"]), "Items": list(config["CustomErrorResponses"])}
        return c

    def create_distribution(name: str, p: dict[str, Any], account_id: str, region_name: str) -> Any:
        distribution, _, _ = backend(account_id).create_distribution(
            api_config(p["DistributionConfig"], f"{name}-{uuid.uuid4()}"), p.get("Tags", []))
        return distribution

    def update_distribution(d: Any, p: dict[str, Any], account_id: str, region_name: str) -> None:
        config = api_config(p["DistributionConfig"], d.distribution_config.caller_reference)
        backend(account_id).update_distribution(config, d.distribution_id, True)

    _model("cloudfront-distribution-resource", "AWS::CloudFront::OriginAccessControl", "cloudfront",
           create=lambda name, p, account_id, region: backend(account_id).create_origin_access_control(p["OriginAccessControlConfig"]),
           update=lambda c, p, account_id, region: c.update(p["OriginAccessControlConfig"]),
           ref=lambda c: c.id, attributes={"Id": lambda c: c.id},
           delete=lambda c, account_id, region: backend(account_id).origin_access_controls.pop(c.id, None))
    _model("cloudfront-distribution-resource", "AWS::CloudFront::Distribution", "cloudfront",
           create=create_distribution, update=update_distribution, ref=lambda d: d.distribution_id,
           attributes={"Id": lambda d: d.distribution_id, "DomainName": lambda d: d.domain_name},
           delete=lambda d, account_id, region: backend(account_id).delete_distribution(d.distribution_id, True))


@fix("elasticache-resources",
     "An AWS::ElastiCache::SubnetGroup and an AWS::ElastiCache::ReplicationGroup (cluster mode off) in a template "
     "are created in ElastiCache, the group with its AuthToken, encryption and node count: Ref gives the subnet "
     "group's name and the group's id, GetAtt PrimaryEndPoint.Address and PrimaryEndPoint.Port its primary endpoint "
     "(AWS::ElastiCache::ReplicationGroup, Return values).")
def _elasticache_resources() -> None:
    # moto models both in its ElastiCache API but not in CloudFormation: the resources are skipped,
    # and an output with GetAtt ReplicationGroup.PrimaryEndPoint.Address leaves the stack without it.
    from moto.elasticache.models import elasticache_backends

    def backend(account_id: str, region_name: str) -> Any:
        return elasticache_backends[account_id][region_name]

    def physical_name(name: str, limit: int) -> str:
        # Lower-case letters, digits and hyphens, starting with a letter, as ElastiCache requires.
        return re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", name.lower()))[:limit].strip("-")

    def create_subnet_group(name: str, p: dict[str, Any], account_id: str, region_name: str) -> Any:
        return backend(account_id, region_name).create_cache_subnet_group(
            p.get("CacheSubnetGroupName") or physical_name(name, 255), p.get("Description", ""), list(p.get("SubnetIds", [])), p.get("Tags"))

    def create_group(name: str, p: dict[str, Any], account_id: str, region_name: str) -> Any:
        flag = lambda key: str(p.get(key, "false")).lower() == "true"  # noqa: E731 (template booleans may be strings)
        return backend(account_id, region_name).create_replication_group(
            replication_group_id=p.get("ReplicationGroupId") or physical_name(name, 40),
            replication_group_description=p["ReplicationGroupDescription"], global_replication_group_id=None,
            primary_cluster_id=None, automatic_failover_enabled=flag("AutomaticFailoverEnabled"), multi_az_enabled=flag("MultiAZEnabled"),
            num_cache_clusters=int(p.get("NumCacheClusters", 1)), preferred_cache_cluster_azs=p.get("PreferredCacheClusterAZs"),
            num_node_groups=None, replicas_per_node_group=None, node_group_configuration=[], cache_node_type=p.get("CacheNodeType"),
            engine=p.get("Engine"), engine_version=p.get("EngineVersion"), cache_parameter_group_name=p.get("CacheParameterGroupName"),
            cache_subnet_group_name=p.get("CacheSubnetGroupName"), cache_security_group_names=None,
            security_group_ids=list(p.get("SecurityGroupIds", [])), tags=p.get("Tags"), snapshot_arns=None, snapshot_name=None,
            preferred_maintenance_window=p.get("PreferredMaintenanceWindow"), port=int(p.get("Port", 6379)), notification_topic_arn=None,
            auto_minor_version_upgrade=flag("AutoMinorVersionUpgrade"), snapshot_retention_limit=int(p.get("SnapshotRetentionLimit", 0)),
            snapshot_window=None, auth_token=p.get("AuthToken"), transit_encryption_enabled=flag("TransitEncryptionEnabled"),
            at_rest_encryption_enabled=flag("AtRestEncryptionEnabled"), kms_key_id=p.get("KmsKeyId"), user_group_ids=list(p.get("UserGroupIds", [])),
            log_delivery_configurations=[], data_tiering_enabled=None, network_type=None, ip_discovery=None,
            transit_encryption_mode=p.get("TransitEncryptionMode"), cluster_mode=None, serverless_cache_snapshot_name=None)

    def primary(group: Any, key: str) -> Any:
        return group.node_groups[0]["primary_endpoint"][key]

    _model("elasticache-resources", "AWS::ElastiCache::SubnetGroup", "elasticache", create=create_subnet_group,
           ref=lambda g: g.cache_subnet_group_name, attributes={},
           delete=lambda g, account_id, region: backend(account_id, region).cache_subnet_groups.pop(g.cache_subnet_group_name, None))
    _model("elasticache-resources", "AWS::ElastiCache::ReplicationGroup", "elasticache", create=create_group,
           ref=lambda g: g.replication_group_id,
           attributes={"PrimaryEndPoint.Address": lambda g: primary(g, "address"), "PrimaryEndPoint.Port": lambda g: str(primary(g, "port"))},
           delete=lambda g, account_id, region: backend(account_id, region).delete_replication_group(g.replication_group_id, None))


@fix("bucket-policy-conditions",
     "A bucket-policy statement applies only when its Condition holds: the usual TLS-only Deny (Bool "
     "aws:SecureTransport false) denies nothing the SDK sends, since the SDK reaches S3 over TLS (IAM reference: "
     "policy evaluation, aws:SecureTransport). The emulator is plain HTTP on 127.0.0.1, so requests are "
     "evaluated as made over TLS.")
def _bucket_policy_conditions() -> None:
    # moto evaluates only StringEquals, takes any other operator (Bool) as satisfied, and counts a
    # statement whose condition fails as an explicit Deny whatever its Effect: every Get/Head/PutObject
    # on a TLS-only bucket answers 403.
    from moto.iam import access_control, policy_conditions
    from moto.s3.models import FakeBucket

    def bool_equals(expected: Any, actual: str) -> bool:
        return str(actual).lower() in [str(v).lower() for v in (expected if isinstance(expected, list) else [expected])]

    policy_conditions.CONDITION_OPERATIONS["Bool"] = bool_equals
    statement_permitted, bucket_permission = access_control.IAMPolicyStatement.is_action_permitted, FakeBucket.get_permission

    def is_action_permitted(self: Any, action: str, resource: str = "*", principal: str | None = None,
                            incoming_condition_values: dict[str, str] | None = None) -> Any:
        if self._statement.get("Condition") and not self._check_conditions(incoming_condition_values):
            return access_control.PermissionResult.NEUTRAL
        return statement_permitted(self, action, resource, principal, incoming_condition_values)

    def get_permission(self: Any, action: str, resource: str) -> Any:
        if self.policy is None or not active("bucket-policy-conditions"):
            return bucket_permission(self, action, resource)
        policy = access_control.IAMPolicy(self.policy.decode())
        return policy.is_action_permitted(action, resource, incoming_condition_values={"aws:SecureTransport": "true"})

    access_control.IAMPolicyStatement.is_action_permitted = is_action_permitted
    FakeBucket.get_permission = get_permission


@fix("execute-change-set-failure-is-a-stack-event",
     "ExecuteChangeSet only starts the operation: a resource that cannot be created or updated shows as a "
     "*_FAILED stack event with its reason, and the stack ends *_FAILED (as with DisableRollback: moto cannot "
     "roll back). moto answered HTTP 500 instead, and the SDK's retry then found the half-applied stack *_COMPLETE.")
def _execute_change_set_failure_is_a_stack_event() -> None:
    # moto applies a change set inside the request ("TODO: handle execution errors and implement
    # rollback"): a model error escapes as an HTML 500. Registered last: it wraps the other fixes.
    from moto.cloudformation import models, parsing

    create_resource, original = parsing.parse_and_create_resource, models.CloudFormationBackend.execute_change_set

    def parse_and_create_resource(logical_id: str, resource_json: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return create_resource(logical_id, resource_json, *args, **kwargs)
        except Exception as err:
            if not hasattr(err, "saleday_resource"):
                err.saleday_resource = (logical_id, resource_json.get("Type", "?"))  # type: ignore[attr-defined]
            raise

    def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        change_set = self.describe_change_set(change_set_name)
        try:
            original(self, change_set_name, stack_name)
        except Exception as err:
            if not active("execute-change-set-failure-is-a-stack-event"):
                raise
            stack, operation = self.stacks[change_set.stack_id], change_set.change_set_type
            logical_id, resource_type = getattr(err, "saleday_resource", (None, None))
            reason = f"{type(err).__name__}: {err}"
            if logical_id:
                stack.events.append(models.Event(
                    stack_id=stack.stack_id, stack_name=stack.name, logical_resource_id=logical_id, physical_resource_id="",
                    resource_type=resource_type, resource_status=f"{operation}_FAILED", resource_status_reason=reason,
                    resource_properties=None))
                reason = f"The following resource(s) failed to {operation.lower()}: [{logical_id}]."
            stack._add_stack_event(f"{operation}_FAILED", resource_status_reason=reason)
            stack.status, change_set.execution_status = f"{operation}_FAILED", "EXECUTE_FAILED"

    parsing.parse_and_create_resource = parse_and_create_resource
    models.CloudFormationBackend.execute_change_set = execute_change_set



@fix("delete-stack-deletes-route-tables",
     "DeleteStack deletes the route tables the stack made (AWS::EC2::RouteTable), so the VPC they belong to is "
     "deleted with the stack; moto leaves them behind and the VPC's deletion fails with DependencyViolation.")
def _delete_stack_deletes_route_tables() -> None:
    # moto's RouteTable has no CloudFormation delete: DeleteStack skips it, the VPC keeps a second
    # route table, and delete_vpc refuses. A table still associated refuses too; moto's stack delete
    # tries again in its next pass, after the association went (the order AWS deletes in).
    from moto.core.common_models import CloudFormationModel
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.route_tables import RouteTable

    plain = CloudFormationModel.delete_from_cloudformation_json

    def delete_from_cloudformation_json(cls: Any, resource_name: str, cloudformation_json: Any, account_id: str,
                                        region_name: str) -> None:
        if not active("delete-stack-deletes-route-tables"):
            return plain.__func__(cls, resource_name, cloudformation_json, account_id, region_name)  # type: ignore[attr-defined]
        backend = ec2_backends[account_id][region_name]
        if resource_name in backend.route_tables:
            backend.delete_route_table(resource_name)

    RouteTable.delete_from_cloudformation_json = classmethod(delete_from_cloudformation_json)  # type: ignore[assignment]


@fix("ecs-task-definition-properties",
     "An AWS::ECS::TaskDefinition in a template is registered with its TaskRoleArn, ExecutionRoleArn, NetworkMode, "
     "RequiresCompatibilities, Cpu and RuntimePlatform, as DescribeTaskDefinition then reports them "
     "(AWS::ECS::TaskDefinition reference); moto registers only the family, containers, volumes and memory.")
def _ecs_task_definition_properties() -> None:
    # Without them a Fargate task definition reads as bridge-mode EC2 with no roles: RunTask with
    # awsvpc networking and the task's credentials cannot be shown against it.
    from moto.ecs.models import TaskDefinition, ecs_backends
    from moto.core.utils import pascal_to_camelcase, remap_nested_keys

    original = TaskDefinition.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create_from_cloudformation_json(cls: Any, resource_name: str, cloudformation_json: Any, account_id: str,
                                        region_name: str, **kwargs: Any) -> Any:
        if not active("ecs-task-definition-properties"):
            return original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        p = cloudformation_json["Properties"]
        return ecs_backends[account_id][region_name].register_task_definition(
            family=p.get("Family", resource_name),
            container_definitions=remap_nested_keys(p.get("ContainerDefinitions", []), pascal_to_camelcase),
            volumes=remap_nested_keys(p.get("Volumes", []), pascal_to_camelcase),
            memory=p.get("Memory"),
            cpu=p.get("Cpu"),
            network_mode=p.get("NetworkMode"),
            requires_compatibilities=p.get("RequiresCompatibilities"),
            task_role_arn=p.get("TaskRoleArn"),
            execution_role_arn=p.get("ExecutionRoleArn"),
            runtime_platform=remap_nested_keys(p["RuntimePlatform"], pascal_to_camelcase) if p.get("RuntimePlatform") else None,
        )

    TaskDefinition.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: a free port (the default)")
    parser.add_argument("--without", default=os.environ.get("SALEDAY_MOTO_WITHOUT", ""),
                        help='fixes to leave out, comma separated ("all": plain moto)')
    parser.add_argument("--exit-on-stdin-eof", action="store_true", help="end when stdin closes (the parent is gone)")
    parser.add_argument("--list", action="store_true", help="list the fixes and exit")
    args = parser.parse_args()
    if args.list:
        for f in FIXES.values():
            print(f"{f.name}: {f.restores}")
        return

    import moto

    if moto.__version__ != MOTO_VERSION:
        sys.exit(f"moto_server.py: moto {moto.__version__} is installed, its fixes are written against {MOTO_VERSION}: "
                 f"pip install 'moto[server]=={MOTO_VERSION}'")
    without = {n.strip() for n in args.without.split(",") if n.strip()}
    unknown = without - set(FIXES) - {"all"}
    if unknown:
        sys.exit(f"moto_server.py: no fix named {', '.join(sorted(unknown))} (fixes: {', '.join(FIXES)})")
    applied = [name for name in FIXES if "all" not in without and name not in without]
    for name in applied:
        FIXES[name].apply()
    _hide_inactive_models()

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    app = DomainDispatcherApplication(create_backend_app)

    def serve(environ: dict[str, Any], start_response: Any) -> Any:
        _request.without = {n.strip() for n in environ.get("HTTP_X_SALEDAY_MOTO_WITHOUT", "").split(",") if n.strip()}
        return app(environ, start_response)

    server = make_server(args.host, args.port, serve, threaded=True)
    # moto builds some URLs (S3 template URLs, custom resource callbacks) from MOTO_PORT.
    os.environ["MOTO_PORT"] = str(server.server_port)
    if args.exit_on_stdin_eof:
        def watch_stdin() -> None:
            while sys.stdin.buffer.read(65536):
                pass
            os._exit(0)

        threading.Thread(target=watch_stdin, daemon=True).start()
    print(f"moto_server listening on http://{args.host}:{server.server_port} (fixes: {', '.join(applied) or 'none'})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
