"""The table of stackops's commands: each name, where its command lives, its one-line help.

`stackops --help`, `--version` and shell completion answer from this table alone, so
they import no command (and no boto3, pydantic or Jinja2); a command's module is
imported only when it runs (`stackops.cli.main.load_command`). A new command gets a
line here; tests/cli/test_startup.py fails when a summary differs from the first
sentence of the command's own help.
"""

from __future__ import annotations

# name -> ("module:attribute", the first sentence of its help), grouped by area.
COMMANDS: dict[str, tuple[str, str]] = {
    # the AWS side and the sandbox
    "bootstrap": (
        "stackops.cli.bootstrap_cmd:bootstrap",
        "Create the state table, queues, event rule, artifacts bucket and IAM roles.",
    ),
    "sandbox": (
        "stackops.cli.sandbox_cmd:sandbox",
        "Run the embedded AWS sandbox (moto) in the background.",
    ),
    "template": (
        "stackops.cli.template_cmd:template",
        "Print what `stackops bootstrap` creates as a CloudFormation template (no AWS call).",
    ),
    # stack file
    "apply": (
        "stackops.cli.apply_cmd:apply",
        "Make a stack match its file: create, update (and with --prune delete) records.",
    ),
    "schema": (
        "stackops.cli.apply_cmd:schema",
        "Print the stack file's JSON Schema (for editors).",
    ),
    # OpsWorks verbs
    "create-stack": (
        "stackops.cli.stacks:create_stack",
        "Create a stack (layers, apps and instances are added to it).",
    ),
    "describe-stacks": ("stackops.cli.stacks:describe_stacks", "Describe stacks."),
    "update-stack": ("stackops.cli.stacks:update_stack", "Change a stack's settings."),
    "delete-stack": (
        "stackops.cli.stacks:delete_stack",
        "Delete a stack that has no instances, apps or layers left.",
    ),
    "clone-stack": (
        "stackops.cli.stacks:clone_stack",
        "Copy a stack's settings and layers (and the apps named) into a new stack.",
    ),
    "describe-stack-summary": (
        "stackops.cli.stacks:describe_stack_summary",
        "Counts of a stack's layers, apps and instances by status.",
    ),
    "start-stack": (
        "stackops.cli.stacks:start_stack",
        (
            "Start every stopped 24/7 instance of a stack (OpsWorks answers nothing; stderr lists "
            "them; the scaler starts time- and load-based ones)."
        ),
    ),
    "stop-stack": (
        "stackops.cli.stacks:stop_stack",
        "Stop every running instance of a stack (OpsWorks answers nothing; stderr lists them).",
    ),
    "create-layer": (
        "stackops.cli.layers:create_layer",
        "Create a layer (a role: lb, app, db, custom) in a stack.",
    ),
    "describe-layers": (
        "stackops.cli.layers:describe_layers",
        "Describe the layers of a stack, or the layers named.",
    ),
    "update-layer": ("stackops.cli.layers:update_layer", "Change a layer's settings."),
    "delete-layer": ("stackops.cli.layers:delete_layer", "Delete a layer that has no instances."),
    "create-app": ("stackops.cli.apps:create_app", "Create an app (deployable code) in a stack."),
    "describe-apps": (
        "stackops.cli.apps:describe_apps",
        "Describe the apps of a stack, or the apps named (protected values filtered).",
    ),
    "update-app": (
        "stackops.cli.apps:update_app",
        "Change an app's settings; --environment replaces the whole environment.",
    ),
    "delete-app": (
        "stackops.cli.apps:delete_app",
        "Undeploy an app from its instances, then delete it and its protected values.",
    ),
    "upload-app-bundle": (
        "stackops.cli.bundles:upload_app_bundle",
        "Upload an app's tar or zip archive to the artifacts bucket; print its s3:// URL.",
    ),
    "create-instance": (
        "stackops.cli.instances:create_instance",
        "Create an instance (stopped) in one or more layers of a stack.",
    ),
    "describe-instances": (
        "stackops.cli.instances:describe_instances",
        "Describe instances by stack, by layer or by id.",
    ),
    "update-instance": (
        "stackops.cli.instances:update_instance",
        "Change an instance's settings or layers (launch settings only while stopped).",
    ),
    "delete-instance": (
        "stackops.cli.instances:delete_instance",
        "Delete a stopped instance (its EC2 instance is terminated).",
    ),
    "start-instance": (
        "stackops.cli.instances:start_instance",
        "Launch an instance's EC2 instance (setup runs when the dispatcher sees it boot).",
    ),
    "stop-instance": (
        "stackops.cli.instances:stop_instance",
        "Stop an instance: shutdown recipes, then EC2 stops it (instance store: terminated).",
    ),
    "reboot-instance": ("stackops.cli.instances:reboot_instance", "Reboot an online instance."),
    "register-instance": (
        "stackops.cli.registered:register_instance",
        "Register an existing EC2 instance with a stack (status registered, in no layer).",
    ),
    "get-hostname-suggestion": (
        "stackops.cli.instances:get_hostname_suggestion",
        "The next hostname for a layer, by the stack's hostname theme.",
    ),
    "describe-operating-systems": (
        "stackops.cli.instances:describe_operating_systems",
        "The operating system names instances may use (each maps to a current public AMI).",
    ),
    "assign-instance": (
        "stackops.cli.registered:assign_instance",
        "Put a registered instance in layers: the dispatcher sets it up, then configures.",
    ),
    "unassign-instance": (
        "stackops.cli.registered:unassign_instance",
        "Take a registered instance out of all its layers (it stays registered).",
    ),
    "deregister-instance": (
        "stackops.cli.registered:deregister_instance",
        "Forget a registered instance; its EC2 instance keeps running, untagged.",
    ),
    "attach-elastic-load-balancer": (
        "stackops.cli.elb:attach_elastic_load_balancer",
        "Attach a Classic ELB to a layer; its online instances are registered with it.",
    ),
    "detach-elastic-load-balancer": (
        "stackops.cli.elb:detach_elastic_load_balancer",
        "Detach a layer's Classic ELB; the layer's instances are deregistered from it.",
    ),
    "describe-elastic-load-balancers": (
        "stackops.cli.elb:describe_elastic_load_balancers",
        "The load balancers of a stack's layers, or of the layers named.",
    ),
    "register-elastic-ip": (
        "stackops.cli.eips:register_elastic_ip",
        "Register an Elastic IP with a stack (one stack at a time).",
    ),
    "deregister-elastic-ip": (
        "stackops.cli.eips:deregister_elastic_ip",
        "Deregister an Elastic IP (it stays allocated).",
    ),
    "associate-elastic-ip": (
        "stackops.cli.eips:associate_elastic_ip",
        "Associate a registered Elastic IP with an instance (again at every boot).",
    ),
    "disassociate-elastic-ip": (
        "stackops.cli.eips:disassociate_elastic_ip",
        "Detach a registered Elastic IP from its instance.",
    ),
    "update-elastic-ip": ("stackops.cli.eips:update_elastic_ip", "Name a registered Elastic IP."),
    "describe-elastic-ips": (
        "stackops.cli.eips:describe_elastic_ips",
        "Registered Elastic IPs of an instance, of a stack, or by address.",
    ),
    "tag-resource": (
        "stackops.cli.tags:tag_resource",
        "Tag a stack or layer; its EC2 instances carry the tags too.",
    ),
    "untag-resource": (
        "stackops.cli.tags:untag_resource",
        "Remove tags from a stack or layer and from its EC2 instances.",
    ),
    "list-tags": ("stackops.cli.tags:list_tags", "A stack's or layer's tags."),
    "import-opsworks": (
        "stackops.cli.import_cmd:import_opsworks",
        (
            "Write a stack file from the saved answers of aws opsworks describe-stacks, "
            "describe-layers, describe-apps and describe-instances (and, if saved, "
            "describe-elastic-load-balancers, describe-elastic-ips and the auto scaling ones)."
        ),
    ),
    # lifecycle events
    "watch": (
        "stackops.cli.watch_cmd:watch",
        "Poll the tagged EC2 instances and put a state-change event on the bus for each change.",
    ),
    "events": ("stackops.cli.events_cmd:events", "Look at the lifecycle event queues."),
    # deployments
    "create-deployment": (
        "stackops.cli.deployments:create_deployment",
        "Run a command (deploy, rollback, setup, configure, ...) on a stack's instances.",
    ),
    "describe-deployments": (
        "stackops.cli.deployments:describe_deployments",
        "Deployments of a stack or an app, or those named, newest first.",
    ),
    "continue-deployment": (
        "stackops.cli.deployments:continue_deployment",
        "Let a paused (half) deployment deploy the rest.",
    ),
    "abort-deployment": (
        "stackops.cli.deployments:abort_deployment",
        "Stop a deployment and switch the instances it switched back.",
    ),
    # time- and load-based instances
    "set-time-based-auto-scaling": (
        "stackops.cli.autoscale_cmd:set_time_based_auto_scaling",
        "Set a time-based instance's weekly schedule (UTC hours).",
    ),
    "describe-time-based-auto-scaling": (
        "stackops.cli.autoscale_cmd:describe_time_based_auto_scaling",
        "The schedules of time-based instances.",
    ),
    "set-load-based-auto-scaling": (
        "stackops.cli.autoscale_cmd:set_load_based_auto_scaling",
        "Set a layer's load-based scaling: thresholds, wait and ignore times, counts.",
    ),
    "describe-load-based-auto-scaling": (
        "stackops.cli.autoscale_cmd:describe_load_based_auto_scaling",
        "The load-based scaling of layers.",
    ),
    "autoscale": (
        "stackops.cli.autoscale_cmd:autoscale",
        "The scaler: start and stop time-based and load-based instances.",
    ),
    # the lifecycle dispatcher
    "dispatch": (
        "stackops.cli.dispatch_cmd:dispatch",
        "Run the lifecycle dispatcher on the queue: setup, configure, deploy, shutdown.",
    ),
    "describe-commands": (
        "stackops.cli.dispatch_cmd:describe_commands",
        "Commands (one run of recipes on one instance) by instance, deployment or id.",
    ),
    "logs": (
        "stackops.cli.dispatch_cmd:logs",
        "The converge report of one command (text; --output json for the whole record).",
    ),
    # the recipe engine
    "solo": (
        "stackops.cli.solo_cmd:solo",
        "Converge RECIPES (cookbook::recipe ...) on this host, under --root.",
    ),
    "recipes": ("stackops.cli.solo_cmd:recipes", "Cookbooks and their recipes."),
    "agent": (
        "stackops.cli.agent_cmd:agent",
        "The stackops agent: run recipes on this instance for the dispatcher.",
    ),
}
